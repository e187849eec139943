import { describe, expect, it } from 'vitest';
import { grpcPattern, grpcStreamPattern } from '../src/patterns/grpc/index.js';
import { DIRECT_NETWORK, isHopErrorCounter, isWireMetered, type Pattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { callsOf, refusalsOf } from './support/workflow-calls.js';

/** What the wire meter must show after the orders: `messages` counted, the `outcomes` of `orders` placed (the first of them twice). */
type WireCheck = (messages: number, outcomes: readonly OrderOutcome[], orders: number) => void;

/**
 * grpc: a request and a response message per unary call — each order's calls, and the retried
 * order's one PlaceOrder — but a refusal (FAILED_PRECONDITION: declined, out of stock) is a
 * status without a response message, so it counts its request only.
 */
const exactPerCall: WireCheck = (messages, outcomes) => expect(messages).toBe(2 * (callsOf(outcomes) + 1) - refusalsOf(outcomes));

/**
 * grpc-stream: its client hears the terminal update before orders has notified and answered
 * PlaceOrder, so when the last order resolves the count is still moving: a range per order.
 * The stream's own messages are counted exactly in wire-messages.test.ts.
 */
const perOrderRange: WireCheck = (messages, _outcomes, orders) => {
  expect(messages / orders).toBeGreaterThanOrEqual(6);
  expect(messages / orders).toBeLessThan(16);
};

describe.each([
  ['unary PlaceOrder: 2 messages per call, 1 per refused call, none failed', grpcPattern, exactPerCall],
  ['until the stream shows the terminal state', grpcStreamPattern, perOrderRange],
])('grpc pattern, %s', (_name, pattern: Pattern, checkWire: WireCheck) => {
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
      checkWire((await running.wireStats()).messages, outcomes, placed.length);
      expect((await running.wireStats()).bytes / placed.length).toBeGreaterThan(100);
      expect(await running.hopErrors()).toEqual({});
    } finally {
      await running.stop();
    }
  });
});
