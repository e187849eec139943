/**
 * The command side's outcome of an order (OrderOutcomes): answered from the log, whichever
 * comes first, the wait or the terminal event, and for orders it did not create.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../src/event-store/index.js';
import { ORDER_EVENTS, orderStream } from '../src/patterns/event-sourcing/events.js';
import { OrderOutcomes } from '../src/patterns/event-sourcing/outcomes.js';

let store: MemoryEventStore | undefined;
let outcomes: OrderOutcomes | undefined;
afterEach(async () => {
  await outcomes?.stop();
  await store?.close();
  outcomes = undefined;
  store = undefined;
});

async function open(): Promise<{ store: MemoryEventStore; outcomes: OrderOutcomes }> {
  store = new MemoryEventStore();
  outcomes = new OrderOutcomes(store);
  await outcomes.start();
  return { store, outcomes };
}

const created = (orderId: string) => ({ type: ORDER_EVENTS.created, data: { orderId, customerId: 'c-1', items: [{ sku: 'sku-1', qty: 1 }], amountCents: 100 } });
const confirmed = (orderId: string) => ({ type: ORDER_EVENTS.confirmed, data: { orderId, items: [{ sku: 'sku-1', qty: 1 }] } });
const cancelled = (orderId: string) => ({ type: ORDER_EVENTS.cancelled, data: { orderId, items: [{ sku: 'sku-1', qty: 1 }], reason: 'out_of_stock' } });

describe('OrderOutcomes', () => {
  it('answers a wait made before the terminal event with that event, once it is appended', async () => {
    const { store, outcomes } = await open();
    outcomes.created('o-1');
    await store.append(orderStream('o-1'), [created('o-1')], 0);
    const waiting = outcomes.wait('o-1', 5_000);
    await store.append(orderStream('o-1'), [cancelled('o-1')], 1);
    expect(await waiting).toEqual({ orderId: 'o-1', status: 'CANCELLED', reason: 'out_of_stock' });
  });

  it('answers an order it created from the log it follows, without reading the stream, when the outcome came before the wait', async () => {
    const { store, outcomes } = await open();
    let streamReads = 0;
    const readStream = store.readStream.bind(store);
    store.readStream = (...args: Parameters<MemoryEventStore['readStream']>) => {
      streamReads++;
      return readStream(...args);
    };
    outcomes.created('o-2');
    await store.append(orderStream('o-2'), [created('o-2'), confirmed('o-2')], 0);
    // A subscriber of our own sees the terminal event; by then the outcomes' earlier subscription is woken too.
    await new Promise<void>((resolve) => {
      const probe = store.subscribe(0, (e) => {
        if (e.type === ORDER_EVENTS.confirmed) void probe.stop().then(resolve);
      });
    });
    let verdict;
    for (let tries = 0; verdict === undefined && tries < 500; tries++) verdict = await outcomes.wait('o-2', 1);
    expect(verdict).toEqual({ orderId: 'o-2', status: 'CONFIRMED' });
    expect(streamReads).toBe(0);
  });

  it('folds the stream of an order it did not create: decided, pending (undefined after the wait) or unknown (null)', async () => {
    const { store, outcomes } = await open();
    await store.append(orderStream('o-3'), [created('o-3'), confirmed('o-3')], 0);
    await store.append(orderStream('o-4'), [created('o-4')], 0);
    expect(await outcomes.wait('o-3', 5_000)).toEqual({ orderId: 'o-3', status: 'CONFIRMED' });
    expect(await outcomes.wait('o-4', 30)).toBeUndefined();
    expect(await outcomes.wait('o-5', 5_000)).toBeNull();
  });

  it('answers every wait for the same order, and stop() ends the waits still open', async () => {
    const { store, outcomes } = await open();
    outcomes.created('o-6');
    await store.append(orderStream('o-6'), [created('o-6')], 0);
    const both = Promise.all([outcomes.wait('o-6', 5_000), outcomes.wait('o-6', 5_000)]);
    await store.append(orderStream('o-6'), [confirmed('o-6')], 1);
    expect(await both).toEqual([
      { orderId: 'o-6', status: 'CONFIRMED' },
      { orderId: 'o-6', status: 'CONFIRMED' },
    ]);
  });
});
