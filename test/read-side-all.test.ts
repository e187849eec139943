import { describe, expect, it } from 'vitest';
import { PATTERNS } from '../src/patterns/registry.js';
import { isOrderReader } from '../src/patterns/types.js';
import { startPattern } from './support/pattern.js';

describe('the read side in every registered pattern', () => {
  it.each(PATTERNS.map((p) => [p.id, p] as const))('%s reads a customer\'s orders over the path its card names', async (_id, pattern) => {
    expect(pattern.readPath?.length).toBeGreaterThan(10);
    const { running, generator } = await startPattern(pattern, { placement: 'same-thread' });
    try {
      if (!isOrderReader(running)) throw new Error(`${pattern.id} has no read side`);
      expect(running.readPath).toBe(pattern.readPath);
      const order = generator.next();
      const outcome = await running.placeOrder(order);
      const drainable = running as Partial<{ drain(ms: number): Promise<void> }>;
      await drainable.drain?.(5_000);
      const read = await running.customerOrders(order.customerId);
      // The customer's one order, in the state the client was told.
      expect(read.map((o) => [o.orderId, o.status, o.reason])).toEqual([[order.orderId, outcome.status, outcome.reason]]);
      expect(await running.customerOrders('no-such-customer')).toEqual([]);
    } finally {
      await running.stop();
    }
  }, 30_000);
});
