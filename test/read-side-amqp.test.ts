/**
 * The read side of queue and saga-choreography (issue #16): after a drained run,
 * `customerOrders(c)` — AMQP request–reply to the orders service, answered on direct
 * reply-to — returns exactly each customer's orders, with their statuses, in placement
 * order. Embedded broker (on the main thread and on a shared worker) and, with AMQP_URL,
 * RabbitMQ.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runLoad } from '../src/bench/loadgen.js';
import { ThreadPool } from '../src/placement/pool.js';
import type { Placement } from '../src/placement/types.js';
import { queuePattern } from '../src/patterns/queue/index.js';
import { sagaChoreographyPattern } from '../src/patterns/saga-choreography/index.js';
import { isDrainable, isOrderReader, isWireMetered, type Pattern, type RunningPattern } from '../src/patterns/types.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { serviceUrl } from './support/services.js';
import { startPattern } from './support/pattern.js';

const AMQP_URL = serviceUrl('AMQP_URL');
const pool = new ThreadPool();
afterAll(() => pool.close());

interface Case {
  readonly pattern: Pattern;
  readonly broker: string;
  readonly placement: Placement;
}

const CASES: readonly Case[] = [queuePattern, sagaChoreographyPattern].flatMap((pattern) => [
  { pattern, broker: 'embedded', placement: 'same-thread' as const },
  { pattern, broker: 'embedded', placement: 'shared' as const },
  ...(AMQP_URL ? [{ pattern, broker: AMQP_URL, placement: 'same-thread' as const }] : []),
]);

const brokerOf = (c: Case): string => (c.broker === 'embedded' ? 'embedded broker' : 'RabbitMQ');

/** A short closed-loop load, drained; the orders placed, in placement order. */
async function drainedRun(c: Case): Promise<{ running: RunningPattern; placed: OrderRequest[] }> {
  const { running, generator } = await startPattern(c.pattern, { broker: c.broker, placement: c.placement }, undefined, 42, pool);
  const placed: OrderRequest[] = [];
  await runLoad(running, {
    shape: { kind: 'closed', concurrency: 16 },
    warmupMs: 0,
    durationMs: 300,
    drainTimeoutMs: 10_000,
    nextOrder: () => {
      const order = generator.next();
      placed.push(order);
      return order;
    },
  });
  if (isDrainable(running)) await running.drain(10_000);
  return { running, placed };
}

/** What each customer's read must return: their orders from the snapshot, in placement order. */
async function expectedByCustomer(running: RunningPattern, placed: readonly OrderRequest[]): Promise<Map<string, OrderRecord[]>> {
  const records = new Map((await running.snapshot()).orders.orders.map((r) => [r.orderId, r]));
  const expected = new Map<string, OrderRecord[]>();
  for (const order of placed) {
    const r = records.get(order.orderId);
    if (!r) throw new Error(`order ${order.orderId} is not in the snapshot`);
    const mine = expected.get(order.customerId) ?? [];
    mine.push(r.reason ? { orderId: r.orderId, status: r.status, reason: r.reason } : { orderId: r.orderId, status: r.status });
    expected.set(order.customerId, mine);
  }
  return expected;
}

describe.each(CASES)('$pattern.id on the $placement placement, $broker', (c) => {
  it(`returns exactly each customer's orders with their statuses, oldest first, over ${brokerOf(c)}`, async () => {
    const { running, placed } = await drainedRun(c);
    try {
      if (!isOrderReader(running)) throw new Error(`${c.pattern.id} has no read side`);
      expect(running.readPath).toBe('AMQP request–reply: query.customer-orders to the orders service, answered on direct reply-to (amq.rabbitmq.reply-to) by correlation id');
      const expected = await expectedByCustomer(running, placed);
      const customers = [...expected.keys()];
      expect(customers.length).toBeGreaterThan(5);
      // Every customer at once: the replies are matched by correlation id.
      const read = await Promise.all(customers.map((id) => running.customerOrders(id)));
      expect(new Map(customers.map((id, i) => [id, read[i]]))).toEqual(expected);
      const statuses = new Set(read.flat().map((r) => r.status));
      expect(statuses).toEqual(new Set(['CONFIRMED', 'CANCELLED']));
      expect(await running.customerOrders('nobody-ever')).toEqual([]);
    } finally {
      await running.stop();
    }
  }, 30_000);

  it('counts the four messages of each read on the wire meter', async () => {
    const { running, placed } = await drainedRun(c);
    try {
      if (!isOrderReader(running) || !isWireMetered(running)) throw new Error(`${c.pattern.id} has no metered read side`);
      const customer = placed[0]?.customerId ?? 'nobody';
      await running.customerOrders(customer); // opens the reply channel: its set-up is not a message
      const before = await running.wireStats();
      await running.customerOrders(customer);
      await running.customerOrders('nobody-ever');
      const after = await running.wireStats();
      // Per read: the client's request and reply, the orders service's request and reply.
      expect(after.messages - before.messages).toBe(8);
      expect(after.bytes).toBeGreaterThan(before.bytes);
    } finally {
      await running.stop();
    }
  }, 30_000);
});
