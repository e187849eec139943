import { describe, expect, it } from 'vitest';
import { restPattern } from '../src/patterns/rest/index.js';
import { DIRECT_NETWORK, isHopErrorCounter, isWireMetered } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { callsOf } from './support/workflow-calls.js';

describe('rest pattern', () => {
  it('runs the workflow over HTTP with invariants intact, and meters the wire: 2 messages per call, none failed', async () => {
    const generator = new OrderGenerator(seededRandom(11), { outOfStockShare: 0.2, declineShare: 0.2 });
    const running = await restPattern.start({
      world: generator.world(),
      random: seededRandom(12),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread' },
      network: DIRECT_NETWORK,
    });
    try {
      expect(running.transport).toEqual({ protocol: 'HTTP/1.1', encoding: 'JSON', broker: null, placement: 'same-thread' });
      const placed: OrderRequest[] = [];
      const outcomes: OrderOutcome[] = [];
      for (let batch = 0; batch < 5; batch++) {
        const orders = Array.from({ length: 20 }, () => generator.next());
        placed.push(...orders);
        outcomes.push(...(await Promise.all(orders.map((o) => running.placeOrder(o)))));
      }
      const reasons = new Set(outcomes.map((o) => o.reason ?? o.status));
      expect(reasons).toEqual(new Set(['CONFIRMED', 'out_of_stock', 'payment_declined']));

      // A retried order changes nothing and gets the same outcome.
      const first = placed[0] as OrderRequest;
      expect(await running.placeOrder(first)).toEqual(outcomes[0]);

      const snapshot = await running.snapshot();
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot });
      expect(report).toMatchObject({ ok: true, stuck: 0, leakedReservations: 0, doubleCharged: 0 });
      expect(report.duplicatesAbsorbed).toBeGreaterThanOrEqual(1);

      if (!isWireMetered(running) || !isHopErrorCounter(running)) throw new Error('rest must meter its wire and count hop errors');
      const wire = (await running.wireStats());
      // A request and a response per call: each order's calls, and the retried order's one POST.
      expect(wire.messages).toBe(2 * (callsOf(outcomes) + 1));
      expect(wire.bytes / placed.length).toBeGreaterThan(500);
      expect(await running.hopErrors()).toEqual({});
    } finally {
      await running.stop();
    }
  });
});
