import { afterEach, describe, expect, it } from 'vitest';
import { WrongExpectedVersionError } from '../src/event-store/index.js';
import { createEventSourcingPattern, EventSourcingSystem } from '../src/patterns/event-sourcing/index.js';
import { orderStream } from '../src/patterns/event-sourcing/events.js';
import { DIRECT_NETWORK } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { EVENT_STORES, storeName } from './support/stores.js';

let running: EventSourcingSystem | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const HOT_STOCK = 10;

async function start(eventStore: string, stock: Record<string, number>, restartDelayMs = 0): Promise<EventSourcingSystem> {
  const pattern = createEventSourcingPattern({ snapshotEvery: 5, restartDelayMs });
  return (await pattern.start({
    world: { stock, balances: { rich: 1_000_000_000 } },
    random: seededRandom(7),
    options: { broker: 'embedded', eventStore },
    network: DIRECT_NETWORK,
  })) as EventSourcingSystem;
}

const order = (i: number, sku = 'hot'): OrderRequest => ({ orderId: `o-${i}`, customerId: 'rich', items: [{ sku, qty: 1 }], amountCents: 1000 });

describe.each(EVENT_STORES)('event-sourcing concurrency on %s', (eventStore) => {
  it(`never oversells a hot SKU under concurrent commands, and counts the conflicts (${storeName(eventStore)})`, async () => {
    running = await start(eventStore, { hot: HOT_STOCK }, 300);
    // Inventory is down for 300 ms while the commands come in: it then works through the
    // backlog with concurrent tasks, which race for the one hot stream. (On the memory
    // store, tasks that are handed events one at a time finish before the next arrives.)
    await running.crash('inventory');
    const orders = Array.from({ length: 40 }, (_, i) => order(i));
    const outcomes = await Promise.all(orders.map((o) => running?.placeOrder(o)));
    const confirmed = outcomes.filter((o) => o?.status === 'CONFIRMED').length;
    expect(confirmed).toBe(HOT_STOCK);
    expect(outcomes.filter((o) => o?.status === 'CANCELLED' && o.reason === 'out_of_stock')).toHaveLength(40 - HOT_STOCK);
    for (const o of outcomes) expect(o?.acceptedAt).toBeTypeOf('number');

    await running.drain(10_000);
    const snapshot = await running.snapshot();
    expect(snapshot.inventory.available).toEqual({ hot: 0 });
    const invariants = checkInvariants({ placed: orders, accepted: new Set(orders.map((o) => o.orderId)), snapshot });
    expect(invariants).toMatchObject({ ok: true, oversold: 0, stockNotConserved: 0 });

    const stats = (await running.projectionStats());
    expect(stats.orders).toBe(40);
    expect(stats.conflicts).toBeGreaterThan(0);
    expect(stats.retries).toBe(stats.conflicts);
    expect(stats.conflictsPer1000Orders).toBe((stats.conflicts * 1000) / 40);
    expect(stats.conflictRetriesExhausted).toBe(0);
    // snapshotEvery 5: the hot stream (10 reservations at least) was snapshotted.
    expect(stats.snapshotsSaved).toBeGreaterThan(0);
    const saved = await running.store.loadSnapshot('stock-hot');
    expect(saved?.version).toBeGreaterThanOrEqual(5);
    expect(saved?.version).toBeLessThanOrEqual((await running.store.readStream('stock-hot')).length);
  });

  it(`refuses an append at a stale expected version with WrongExpectedVersionError (${storeName(eventStore)})`, async () => {
    running = await start(eventStore, { sku: 5 });
    await running.placeOrder(order(1, 'sku'));
    const stream = orderStream('o-1');
    const version = (await running.store.readStream(stream)).length;
    expect(version).toBe(4); // created, reserved, charged, confirmed
    const err = await running.store.append(stream, [{ type: 'OrderCancelled', data: { orderId: 'o-1' } }], 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongExpectedVersionError);
    expect(err).toMatchObject({ code: 'PB_ERR_WRONG_EXPECTED_VERSION', stream, expected: 1, actual: 4 });
    expect((err as Error).message).toBe('wrong expected version for stream "order-o-1": expected 1, actual 4');
  });

  it(`absorbs a repeated PlaceOrder: one order, one charge (${storeName(eventStore)})`, async () => {
    running = await start(eventStore, { sku: 5 });
    const [a, b] = await Promise.all([running.placeOrder(order(1, 'sku')), running.placeOrder(order(1, 'sku'))]);
    expect(a).toMatchObject({ orderId: 'o-1', status: 'CONFIRMED' });
    expect(b).toMatchObject({ orderId: 'o-1', status: 'CONFIRMED' });
    await running.drain(5000);
    const snapshot = await running.snapshot();
    expect(snapshot.payments.ledger).toHaveLength(1);
    expect(snapshot.orders.duplicates).toBeGreaterThanOrEqual(1);
    expect(snapshot.inventory.available).toEqual({ sku: 4 });
  });
});
