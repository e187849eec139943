import { describe, expect, it } from 'vitest';
import { grpcPattern } from '../src/patterns/grpc/index.js';
import { restPattern } from '../src/patterns/rest/index.js';
import { isWireMetered, type Address, type Pattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';

// The services run in two worker threads (orders | the downstream services); the client, the
// network's routes and the checker stay here.
describe.each([
  ['rest', restPattern],
  ['grpc', grpcPattern],
])('%s services in worker threads', (name, pattern: Pattern) => {
  it('serve orders, route every hop through the main thread, hand over snapshot and wire stats, and exit on stop', async () => {
    const generator = new OrderGenerator(seededRandom(31), { outOfStockShare: 0.2, declineShare: 0.2 });
    const hops: string[] = [];
    const running = await pattern.start({
      world: generator.world(),
      random: seededRandom(32),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'worker' },
      network: { route: async (hop: string, target: Address) => (hops.push(hop), target) },
    });
    try {
      expect(running.transport.placement).toBe('worker threads (orders | inventory, payments, notifications)');
      expect(hops.sort()).toEqual([`${name}:inventory`, `${name}:notifications`, `${name}:orders`, `${name}:payments`]);
      const placed = Array.from({ length: 60 }, () => generator.next());
      await Promise.all(placed.map((o) => running.placeOrder(o)));
      const snapshot = await running.snapshot();
      expect(checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot }).ok).toBe(true);
      expect(snapshot.orders.orders).toHaveLength(60);
      if (!isWireMetered(running)) throw new Error('must meter the wire');
      // Published by the worker before it answered the snapshot.
      expect(running.wireStats().messages).toBeGreaterThanOrEqual(60 * 6);
      expect(running.wireStats().bytes).toBeGreaterThan(60 * 100);
    } finally {
      await running.stop();
    }
    await expect(running.snapshot()).rejects.toThrow();
  });
});
