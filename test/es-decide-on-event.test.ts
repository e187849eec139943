/**
 * The processors decide on an order as the event they handle left it (`orderAt`), not on
 * the order read back from the store: a first delivery reads no order stream. What keeps
 * that safe: the append's expected version (a stream that moved on conflicts and is read),
 * a decision of nothing re-made on the stream as stored, and a redelivery or a retry
 * reading the order first (its stock may be decided, and settled, already).
 */
import { describe, expect, it } from 'vitest';
import { MemoryEventStore, type RecordedEvent } from '../src/event-store/index.js';
import { aggregateTypes } from '../src/patterns/event-sourcing/aggregates.js';
import { ORDER_EVENTS, orderStream, stockStream } from '../src/patterns/event-sourcing/events.js';
import { inventoryHandler } from '../src/patterns/event-sourcing/inventory-processor.js';
import { OrderAggregate, applyOrderEvent, orderAt, type MaybeOrder } from '../src/patterns/event-sourcing/order-aggregate.js';
import { paymentsHandler } from '../src/patterns/event-sourcing/payments-processor.js';
import { HANDLED, Processor, type ProcessorHandler } from '../src/patterns/event-sourcing/processor.js';
import { Repository } from '../src/patterns/event-sourcing/repository.js';
import { seededRandom } from '../src/random.js';
import type { OrderRequest } from '../src/workflow/types.js';

/** A memory store that counts reads of order streams. */
function countingStore(): { store: MemoryEventStore; orderReads: () => number } {
  const store = new MemoryEventStore();
  let orderReads = 0;
  const readStream = store.readStream.bind(store);
  store.readStream = (stream, after) => {
    if (stream.startsWith('order-')) orderReads++;
    return readStream(stream, after);
  };
  return { store, orderReads: () => orderReads };
}

const world = { stock: { a: 5, b: 1 }, balances: { rich: 1_000_000, poor: 10 } };
const order = (orderId: string, customerId: string, items: OrderRequest['items'], amountCents = 100): OrderRequest => ({ orderId, customerId, items, amountCents });

/** Payments and inventory over one store, with every event of the log handed to both by hand (first deliveries unless told). */
function workflow(store: MemoryEventStore) {
  const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(3) });
  const types = aggregateTypes(world);
  const duplicates = { duplicates: 0 };
  const handlers: ProcessorHandler[] = [paymentsHandler(repo, types, duplicates), inventoryHandler(repo, types, duplicates)];
  let handledUpTo = 0;
  const alive = () => true;
  const deliver = async (event: RecordedEvent, first = true): Promise<void> => {
    for (const h of handlers) {
      const task = h(event, alive, first);
      if (task !== undefined && task !== HANDLED) await task;
    }
  };
  /** Hands every event not handled yet to both processors, until the log stops growing. */
  const pump = async (): Promise<void> => {
    for (;;) {
      const events = await store.readAll(handledUpTo);
      if (events.length === 0) return;
      for (const event of events) await deliver(event);
      handledUpTo = (events[events.length - 1] as RecordedEvent).position;
    }
  };
  const place = async (o: OrderRequest): Promise<void> => {
    await repo.create(orderStream(o.orderId), OrderAggregate.place(null, o));
    await pump();
  };
  return { place, pump, deliver, duplicates, repo };
}

const fold = async (store: MemoryEventStore, orderId: string, upTo: number): Promise<MaybeOrder> =>
  (await store.readStream(orderStream(orderId))).filter((e) => e.version <= upTo).reduce<MaybeOrder>(applyOrderEvent, null);

describe('event sourcing: deciding on the event, not on a read', () => {
  it('orderAt gives, for OrderCreated, PaymentCharged and StockRejected, the order folded from its stream up to that event; nothing for other events', async () => {
    const { store } = countingStore();
    const w = workflow(store);
    await w.place(order('ok', 'rich', [{ sku: 'a', qty: 1 }]));
    await w.place(order('declined', 'poor', [{ sku: 'a', qty: 1 }]));
    await w.place(order('short', 'rich', [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }]));
    const events = (await store.readAll(0)).filter((e) => e.stream.startsWith('order-'));
    const carried = events.filter((e) => orderAt(e) !== undefined).map((e) => `${e.stream}@${e.version}:${e.type}`);
    expect(carried).toEqual([
      'order-ok@1:OrderCreated',
      'order-ok@2:PaymentCharged',
      'order-declined@1:OrderCreated',
      'order-short@1:OrderCreated',
      'order-short@2:PaymentCharged',
      'order-short@3:StockRejected',
    ]);
    for (const e of events) {
      const at = orderAt(e);
      if (at === undefined) continue;
      expect(at.version).toBe(e.version);
      expect(at.state).toEqual(await fold(store, String(e.data['orderId']), e.version));
    }
    expect((await fold(store, 'short', 99))?.status).toBe('CANCELLED');
  });

  it('a PaymentCharged written before it carried the order (items only) gives nothing: inventory reads the order instead', () => {
    const old: RecordedEvent = { stream: 'order-x', version: 2, position: 9, type: ORDER_EVENTS.paymentCharged, data: { orderId: 'x', items: [{ sku: 'a', qty: 1 }] }, recordedAt: 0 };
    expect(orderAt(old)).toBeUndefined();
  });

  it('first deliveries read no order stream: a confirmed, a declined and an out-of-stock order end right with 0 order reads', async () => {
    const { store, orderReads } = countingStore();
    const w = workflow(store);
    await w.place(order('ok', 'rich', [{ sku: 'a', qty: 2 }]));
    await w.place(order('declined', 'poor', [{ sku: 'a', qty: 1 }]));
    await w.place(order('short', 'rich', [{ sku: 'b', qty: 2 }]));
    expect(orderReads()).toBe(0);
    expect((await fold(store, 'ok', 99))?.status).toBe('CONFIRMED');
    expect(await fold(store, 'declined', 99)).toMatchObject({ status: 'CANCELLED', reason: 'payment_declined' });
    expect(await fold(store, 'short', 99)).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock', payment: 'refunded' });
    expect(w.duplicates.duplicates).toBe(0);
  });

  it('a redelivered PaymentCharged after the order was confirmed and its hold settled reads the order and reserves nothing again', async () => {
    const { store, orderReads } = countingStore();
    const w = workflow(store);
    await w.place(order('one', 'rich', [{ sku: 'a', qty: 2 }]));
    // A second order on the same SKU carries the settle of the first one's hold.
    await w.place(order('two', 'rich', [{ sku: 'a', qty: 1 }]));
    const stock = await store.readStream(stockStream('a'));
    expect(stock.map((e) => e.type)).toEqual(['StockItemReserved', 'StockItemReserved', 'StockItemsSettled']);
    const charged = (await store.readStream(orderStream('one'))).find((e) => e.type === ORDER_EVENTS.paymentCharged) as RecordedEvent;

    const before = orderReads(); // this test's own read just above
    await w.deliver(charged, false);
    expect(orderReads() - before).toBe(1);
    expect(await store.readStream(stockStream('a'))).toHaveLength(3);
    expect((await fold(store, 'one', 99))?.status).toBe('CONFIRMED');
    expect(w.duplicates.duplicates).toBe(1);
  });

  it('a decision of nothing on the given state is made again on the stream as stored, which may have something to do', async () => {
    const { store, orderReads } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1) });
    const types = aggregateTypes(world);
    await repo.create(orderStream('o'), OrderAggregate.place(null, order('o', 'rich', [{ sku: 'a', qty: 1 }])));
    const created = (await store.readStream(orderStream('o')))[0] as RecordedEvent;
    // A wrong "from": the order already charged, so recordPayment on it decides nothing.
    const wrong = { state: { ...(orderAt(created)?.state ?? ({} as never)), payment: 'charged' as const, status: 'CHARGED' as const }, version: 1 };
    const reads = orderReads();
    await repo.execute(types.order, orderStream('o'), (s) => ({ events: OrderAggregate.recordPayment(s, true), result: undefined }), () => true, wrong);
    expect(orderReads()).toBe(reads + 1);
    expect((await store.readStream(orderStream('o'))).map((e) => e.type)).toEqual(['OrderCreated', 'PaymentCharged']);
  });

  it('a given state behind the stream conflicts once and is decided again on the stream as read', async () => {
    const { store } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1) });
    const types = aggregateTypes(world);
    await repo.create(orderStream('o'), OrderAggregate.place(null, order('o', 'rich', [{ sku: 'a', qty: 1 }])));
    const created = (await store.readStream(orderStream('o')))[0] as RecordedEvent;
    // Another writer records a decline (and the cancel) first.
    await repo.execute(types.order, orderStream('o'), (s) => ({ events: OrderAggregate.recordPayment(s, false), result: undefined }));
    await repo.execute(types.order, orderStream('o'), (s) => ({ events: OrderAggregate.recordPayment(s, true), result: undefined }), () => true, orderAt(created));
    expect(repo.counters).toMatchObject({ conflicts: 1, retries: 1 });
    expect((await store.readStream(orderStream('o'))).map((e) => e.type)).toEqual(['OrderCreated', 'PaymentDeclined', 'OrderCancelled']);
  });
});

describe('processor: which deliveries are first', () => {
  it('first for a first delivery; not for a retried attempt; not for what it redelivers after a crash, first again past it', async () => {
    const store = new MemoryEventStore();
    for (let i = 1; i <= 4; i++) await store.append(`s-${i}`, [{ type: 'E', data: { i } }], 0);
    const seen: string[] = [];
    let failOnce = true;
    let release: () => void = () => undefined;
    const handler: ProcessorHandler = (event, _alive, first) => {
      seen.push(`${event.position}:${first ? 'first' : 'again'}`);
      if (event.position === 2 && failOnce) {
        failOnce = false;
        return Promise.reject(new Error('hiccup'));
      }
      // Position 4 never finishes before the crash: the checkpoint stays below it.
      if (event.position === 4 && seen.filter((s) => s.startsWith('4:')).length === 1) return new Promise<void>((resolve) => (release = resolve));
      return Promise.resolve();
    };
    const processor = new Processor(store, handler, { name: 't', concurrency: 4, onError: () => undefined });
    try {
      processor.start();
      await until(() => seen.includes('2:again') && seen.includes('4:first'));
      expect(processor.checkpoint).toBe(3);
      await processor.crash(0);
      await store.append('s-5', [{ type: 'E', data: { i: 5 } }], 0);
      await until(() => seen.includes('5:first'));
      expect(seen).toEqual(['1:first', '2:first', '3:first', '4:first', '2:again', '4:again', '5:first']);
    } finally {
      release();
      await processor.stop();
      await store.close();
    }
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(done()).toBe(true);
}
