import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore, readAllEvents } from '../src/event-store/index.js';
import { createEventSourcingPattern, EventSourcingSystem, orderStateAt } from '../src/patterns/event-sourcing/index.js';
import { ORDER_EVENTS, orderStream } from '../src/patterns/event-sourcing/events.js';
import { OrderAggregate } from '../src/patterns/event-sourcing/order-aggregate.js';
import { Repository } from '../src/patterns/event-sourcing/repository.js';
import { DIRECT_NETWORK } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { EVENT_STORES, storeName } from './support/stores.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

let running: EventSourcingSystem | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(EVENT_STORES)('event-sourcing snapshots and temporal queries on %s', (eventStore) => {
  it(`an aggregate loaded from its snapshot equals the same aggregate folded from all its events (${storeName(eventStore)})`, async () => {
    const started = await startPattern(createEventSourcingPattern({ snapshotEvery: 3 }), { eventStore });
    running = started.running as EventSourcingSystem;
    const r = await loadAndCheck(running, started.generator, { durationMs: 600 });
    expect(r.invariants.ok).toBe(true);
    expect((await running.projectionStats()).snapshotsSaved).toBeGreaterThan(0);

    const streams = new Set<string>();
    for await (const event of readAllEvents(running.store)) streams.add(event.stream);
    const withSnapshots = new Repository(running.store, { snapshotEvery: 0, random: seededRandom(1) });
    const fromEvents = new Repository(running.store, { snapshotEvery: 0, useSnapshots: false, random: seededRandom(1) });
    const { types } = running;
    const load = (repo: Repository, stream: string): Promise<unknown> =>
      stream.startsWith('stock-') ? repo.load(types.stock, stream) : stream.startsWith('account-') ? repo.load(types.account, stream) : repo.load(types.order, stream);
    let snapshotted = 0;
    for (const stream of streams) {
      if ((await running.store.loadSnapshot(stream)) !== undefined) snapshotted++;
      expect(await load(withSnapshots, stream)).toEqual(await load(fromEvents, stream));
    }
    expect(snapshotted).toBeGreaterThan(0);
  });

  it(`a stock item forgets the holds of confirmed orders, so its state stays small (${storeName(eventStore)})`, async () => {
    const pattern = createEventSourcingPattern();
    running = (await pattern.start({
      world: { stock: { a: 100 }, balances: { c: 1_000_000 } },
      random: seededRandom(3),
      options: { broker: 'embedded', eventStore },
      network: DIRECT_NETWORK,
    })) as EventSourcingSystem;
    for (let i = 0; i < 6; i++) {
      expect(await running.placeOrder({ orderId: `o${i}`, customerId: 'c', items: [{ sku: 'a', qty: 2 }], amountCents: 100 })).toMatchObject({ status: 'CONFIRMED' });
    }
    await running.drain(5000);
    const repo = new Repository(running.store, { snapshotEvery: 0, random: seededRandom(1) });
    const { state } = await repo.load(running.types.stock, 'stock-a');
    // Each reserve carries the settlement of the orders confirmed before it: only the last one may still be held.
    expect(state.available).toBe(88);
    expect(Object.keys(state.held).length).toBeLessThanOrEqual(1);
    const snapshot = await running.snapshot();
    expect(snapshot.inventory.reservations.filter((r) => r.state === 'held')).toHaveLength(6);
  });

  it(`answers what an order looked like at a past time (${storeName(eventStore)})`, async () => {
    const started = await startPattern(createEventSourcingPattern(), { eventStore });
    running = started.running as EventSourcingSystem;
    const before = Date.now() - 1;
    await sleep(2);
    const order = started.generator.next();
    const outcome = await running.placeOrder(order);
    const events = await running.store.readStream(orderStream(order.orderId));
    // Created, the payment's answer, then at least the outcome: 3 to 5 events, versions 1, 2, ….
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(await running.stateAt(order.orderId, before)).toBeUndefined();
    for (const event of events) {
      // At an event's time the order shows every event recorded up to then (inclusive), and none after.
      const upTo = Math.max(...events.filter((e) => e.recordedAt <= event.recordedAt).map((e) => e.version));
      expect((await running.stateAt(order.orderId, event.recordedAt))?.version).toBe(upTo);
    }
    expect((await running.stateAt(order.orderId, Date.now()))?.state).toMatchObject({ orderId: order.orderId, status: outcome.status });

    // Between an order's creation and its next event it was PENDING. PostgreSQL records whole
    // milliseconds, so a running order's first two events may share one: write an order's
    // first two events through a store of the same kind (in the system's, the processors
    // would answer it), with the clock moved on in between.
    const store = await openEventStore(eventStore);
    try {
      const next = started.generator.next();
      await store.append(orderStream(next.orderId), OrderAggregate.place(null, next), 0);
      await sleep(3);
      const placed = await orderStateAt(store, next.orderId, Number.POSITIVE_INFINITY);
      await store.append(orderStream(next.orderId), OrderAggregate.recordPayment(placed?.state ?? null, true), 1);
      const [created, charged] = await store.readStream(orderStream(next.orderId));
      expect([created?.type, charged?.type]).toEqual([ORDER_EVENTS.created, ORDER_EVENTS.paymentCharged]);
      const createdAt = created?.recordedAt ?? Number.NaN;
      const chargedAt = charged?.recordedAt ?? Number.NaN;
      expect(chargedAt).toBeGreaterThan(createdAt);
      const between = await orderStateAt(store, next.orderId, (createdAt + chargedAt) / 2);
      expect(between).toMatchObject({ version: 1, state: { orderId: next.orderId, status: 'PENDING' } });
      expect(between?.state.payment).toBeUndefined();
      expect(await orderStateAt(store, next.orderId, chargedAt)).toMatchObject({ version: 2, state: { status: 'CHARGED', payment: 'charged' } });
      expect(await orderStateAt(store, next.orderId, createdAt - 1)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
