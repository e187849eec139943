import { describe, expect, it } from 'vitest';
import { grpcPattern, grpcStreamPattern } from '../src/patterns/grpc/index.js';
import { DIRECT_NETWORK, isHopErrorCounter, isWireMetered, type Pattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';

describe.each([
  ['unary PlaceOrder', grpcPattern],
  ['until the stream shows the terminal state', grpcStreamPattern],
])('grpc pattern, %s', (_name, pattern: Pattern) => {
  it('runs the workflow over gRPC with invariants intact, and meters the wire', async () => {
    const generator = new OrderGenerator(seededRandom(21), { outOfStockShare: 0.2, declineShare: 0.2 });
    const running = await pattern.start({
      world: generator.world(),
      random: seededRandom(22),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread' },
      network: DIRECT_NETWORK,
    });
    try {
      expect(running.transport).toEqual({ protocol: 'HTTP/2 (gRPC)', encoding: 'protobuf', broker: null, placement: 'same-thread' });
      const placed: OrderRequest[] = [];
      const outcomes: OrderOutcome[] = [];
      for (let batch = 0; batch < 5; batch++) {
        const orders = Array.from({ length: 20 }, () => generator.next());
        placed.push(...orders);
        outcomes.push(...(await Promise.all(orders.map((o) => running.placeOrder(o)))));
      }
      expect(new Set(outcomes.map((o) => o.reason ?? o.status))).toEqual(new Set(['CONFIRMED', 'out_of_stock', 'payment_declined']));
      expect(await running.placeOrder(placed[0] as OrderRequest)).toEqual(outcomes[0]);

      const snapshot = await running.snapshot();
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot });
      expect(report).toMatchObject({ ok: true, stuck: 0, leakedReservations: 0, doubleCharged: 0 });

      if (!isWireMetered(running) || !isHopErrorCounter(running)) throw new Error('grpc must meter its wire and count hop errors');
      const perOrder = (await running.wireStats()).messages / placed.length;
      expect(perOrder).toBeGreaterThanOrEqual(6);
      expect(perOrder).toBeLessThan(16);
      expect((await running.wireStats()).bytes / placed.length).toBeGreaterThan(100);
      expect(await running.hopErrors()).toEqual({});
    } finally {
      await running.stop();
    }
  });
});
