import { performance } from 'node:perf_hooks';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventStore, readAllEvents, type EventStore, type NewEvent } from '../src/event-store/index.js';
import { createEventSourcingPattern, EventSourcingSystem, OrdersProjection, OrdersReadModel } from '../src/patterns/event-sourcing/index.js';
import { ORDER_EVENTS, orderStream } from '../src/patterns/event-sourcing/events.js';
import { EVENT_STORES, storeName } from './support/stores.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

async function rebuild(store: EventStore): Promise<OrdersReadModel> {
  const model = new OrdersReadModel();
  for await (const event of readAllEvents(store)) model.apply(event);
  return model;
}

/** The lifecycle of one order as the pattern writes it, cut short at `length` events. */
function lifecycle(orderId: string, path: 'confirmed' | 'out_of_stock' | 'declined', length: number): NewEvent[] {
  const items = [{ sku: 'sku-1', qty: 1 }];
  const created: NewEvent = { type: ORDER_EVENTS.created, data: { orderId, customerId: 'c', items, amountCents: 500 } };
  const charged: NewEvent = { type: ORDER_EVENTS.paymentCharged, data: { orderId, items } };
  const all: NewEvent[] =
    path === 'confirmed'
      ? [created, charged, { type: ORDER_EVENTS.stockReserved, data: { orderId } }, { type: ORDER_EVENTS.confirmed, data: { orderId, items } }]
      : path === 'out_of_stock'
        ? [
            created,
            charged,
            { type: ORDER_EVENTS.stockRejected, data: { orderId, customerId: 'c', amountCents: 500 } },
            { type: ORDER_EVENTS.paymentRefunded, data: { orderId } },
            { type: ORDER_EVENTS.cancelled, data: { orderId, items, reason: 'out_of_stock' } },
          ]
        : [created, { type: ORDER_EVENTS.paymentDeclined, data: { orderId } }, { type: ORDER_EVENTS.cancelled, data: { orderId, items, reason: 'payment_declined' } }];
  return all.slice(0, Math.max(1, Math.min(length, all.length)));
}

describe('orders projection', () => {
  it('killed at any points and resumed from its checkpoint, ends equal to a full replay (property)', async () => {
    const orderArb = fc.record({ path: fc.constantFrom('confirmed' as const, 'out_of_stock' as const, 'declined' as const), length: fc.integer({ min: 1, max: 4 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(orderArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat({ max: 60 }), { maxLength: 5 }),
        fc.integer({ min: 1, max: 8 }),
        async (orders, picks, crashes, checkpointEvery) => {
          const store = new MemoryEventStore();
          const live = new OrdersReadModel();
          const projection = new OrdersProjection(store, live, { checkpointEvery });
          projection.start();
          const queues = orders.map((o, i) => lifecycle(`o${i}`, o.path, o.length));
          const written = orders.map(() => 0);
          const crashAt = new Set(crashes);
          // Interleave the orders' streams in the order the picks choose; crash between appends.
          let step = 0;
          for (let remaining = queues.reduce((n, q) => n + q.length, 0); remaining > 0; remaining--, step++) {
            const open = queues.map((q, i) => (written[i] ?? 0) < q.length ? i : -1).filter((i) => i >= 0);
            const i = open[(picks[step % picks.length] ?? 0) % open.length] as number;
            const version = written[i] ?? 0;
            await store.append(orderStream(`o${i}`), [queues[i]?.[version] as NewEvent], version);
            written[i] = version + 1;
            if (step % 3 === 0) await tick();
            if (crashAt.has(step)) await projection.crash();
          }
          const head = (await store.readAll(0, 10_000)).length;
          for (let i = 0; i < 10_000 && projection.position < head; i++) await tick();
          await projection.stop();
          expect(live.all()).toEqual((await rebuild(store)).all());
          await store.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

let running: EventSourcingSystem | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(EVENT_STORES)('event-sourcing projection and processors on %s', (eventStore) => {
  it(`a projection killed mid-run resumes from its checkpoint and ends equal to a full replay (${storeName(eventStore)})`, async () => {
    // Checkpoint every 16 events: a crash loses up to 15, redelivered and absorbed by version.
    const started = await startPattern(createEventSourcingPattern({ checkpointEvery: 16, restartDelayMs: 50 }), { eventStore });
    running = started.running as EventSourcingSystem;
    const system = running;
    const crashes = setInterval(() => void system.crash('projection'), 250);
    const r = await loadAndCheck(running, started.generator, { durationMs: 1000 }).finally(() => clearInterval(crashes));
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    expect(r.failed).toBe(0);
    const stats = (await running.projectionStats());
    expect(stats.projectionRestarts).toBeGreaterThanOrEqual(2);
    expect(await running.readModelRows()).toEqual((await rebuild(running.store)).all());
    if (eventStore === 'memory') expect(stats.projectionDuplicates).toBeGreaterThan(0);
  });

  it(`each processor killed mid-run restarts once per kill from its checkpoint, redoes its unfinished work, and every invariant holds (${storeName(eventStore)})`, async () => {
    const started = await startPattern(createEventSourcingPattern({ restartDelayMs: 100 }), { eventStore });
    running = started.running as EventSourcingSystem;
    const system = running;
    const kills = { payments: 0, inventory: 0, notifications: 0 };
    const kill = async (service: keyof typeof kills) => {
      await system.crash(service);
      kills[service]++;
    };
    // Until every kill so far was followed by its restart (bounded: a counter that never moves fails below).
    const restarted = async () => {
      const deadline = performance.now() + 5000;
      for (;;) {
        const restarts = await system.processorRestarts();
        if (restarts.payments >= kills.payments && restarts.inventory >= kills.inventory && restarts.notifications >= kills.notifications) return;
        if (performance.now() > deadline) return;
        await sleep(5);
      }
    };
    let killing: Promise<void> = Promise.resolve();
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1000,
      at: {
        ms: 400,
        action: () =>
          (killing = (async () => {
            await kill('inventory');
            await kill('payments');
            await kill('notifications');
            // Inventory again once it is back: a kill while it is still down would be the same outage.
            await restarted();
            await kill('inventory');
          })()),
      },
    });
    await killing;
    await restarted();
    expect(kills).toEqual({ payments: 1, inventory: 2, notifications: 1 });
    expect(await system.processorRestarts()).toEqual(kills);
    expect((await system.projectionStats()).processorRestarts).toEqual(kills);
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0, oversold: 0, leakedReservations: 0 });
    // Work the kills interrupted was redone from the checkpoints, and idempotency absorbed what had already happened.
    expect(r.invariants.duplicatesAbsorbed).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
    expect(system.canCrash('inventory')).toBe(true);
    expect(system.canCrash('shipping')).toBe(false);
    await expect(system.crash('shipping')).rejects.toThrow('event-sourcing: no service "shipping" (known: projection, inventory, payments, notifications)');
  });
});
