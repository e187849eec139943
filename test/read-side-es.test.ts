/**
 * Event sourcing's read side (issue #16): a customer's orders from the CQRS read model,
 * over HTTP from the client's side (`GET /customers/:id/orders` on the query server),
 * wherever the placement puts the query server and through the run's network. The read
 * model is eventually consistent; `projectionDelayMs` makes it lag on purpose.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PlacedLog } from '../src/bench/placed.js';
import { FaultNetwork } from '../src/faults/network.js';
import { ThreadPool } from '../src/placement/pool.js';
import { PLACEMENTS } from '../src/placement/types.js';
import { createEventSourcingPattern, EventSourcingSystem } from '../src/patterns/event-sourcing/index.js';
import { isOrderReader } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { OrderGenerator } from '../src/workflow/generator.js';
import { isTerminal, type OrderRequest } from '../src/workflow/types.js';
import { loadAndCheck, startPattern } from './support/pattern.js';
import { EVENT_STORES, storeName } from './support/stores.js';

const pool = new ThreadPool();
afterAll(() => pool.close());

let running: EventSourcingSystem | undefined;
let network: FaultNetwork | undefined;
afterEach(async () => {
  await running?.stop();
  await network?.close();
  running = undefined;
  network = undefined;
});

async function start(options: Parameters<typeof startPattern>[1], settings: Parameters<typeof createEventSourcingPattern>[0] = {}, net?: FaultNetwork): Promise<OrderGenerator> {
  const started = await startPattern(createEventSourcingPattern(settings), options, net, 42, pool);
  if (!(started.running instanceof EventSourcingSystem)) throw new Error('not the event-sourcing system');
  running = started.running;
  return started.generator;
}

/** Every order the generator hands out, in the order it handed them out. */
function recordOrders(generator: OrderGenerator): OrderRequest[] {
  const handedOut: OrderRequest[] = [];
  const next = generator.next.bind(generator);
  generator.next = () => {
    const order = next();
    handedOut.push(order);
    return order;
  };
  return handedOut;
}

/** Each customer's orders as the snapshot (folded from the log) has them, in its order, as OrderRecords. */
async function expectedByCustomer(system: EventSourcingSystem, orders: readonly OrderRequest[]): Promise<Map<string, OrderRecord[]>> {
  const customerOf = new Map(orders.map((o) => [o.orderId, o.customerId]));
  const byCustomer = new Map<string, OrderRecord[]>();
  for (const { orderId, status, reason } of (await system.snapshot()).orders.orders) {
    const customerId = customerOf.get(orderId);
    if (customerId === undefined) throw new Error(`the log has an order nobody placed: ${orderId}`);
    const record: OrderRecord = reason === undefined ? { orderId, status } : { orderId, status, reason };
    byCustomer.set(customerId, [...(byCustomer.get(customerId) ?? []), record]);
  }
  return byCustomer;
}

/** The customers with the most orders first: the reads that say the most about order and completeness. */
const busiest = (byCustomer: ReadonlyMap<string, readonly OrderRecord[]>, n: number): string[] =>
  [...byCustomer.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, n).map(([c]) => c);

/** How many orders the busiest customer has. */
const busiestCount = (byCustomer: ReadonlyMap<string, readonly OrderRecord[]>): number => Math.max(0, ...[...byCustomer.values()].map((o) => o.length));

describe.each(EVENT_STORES)('event sourcing read side on %s', (eventStore) => {
  it.each(PLACEMENTS)(`after a drained run placed %s, each customer's read returns exactly their orders with their statuses, oldest first (${storeName(eventStore)})`, async (placement) => {
    const generator = await start({ eventStore, placement });
    const orders = recordOrders(generator);
    const system = running as EventSourcingSystem;
    // Load until some customer has ordered twice (one 600 ms load is enough unless the machine is loaded): a read must show order, not only presence.
    let expected = new Map<string, OrderRecord[]>();
    const log = new PlacedLog(); // each check knows the orders of every load so far
    for (let load = 0; load < 5 && !(busiestCount(expected) > 1); load++) {
      const r = await loadAndCheck(system, generator, { durationMs: 600, log });
      expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
      expected = await expectedByCustomer(system, orders);
    }
    const customers = busiest(expected, 12);
    expect(expected.get(customers[0] ?? '')?.length).toBeGreaterThan(1);
    const read = await Promise.all(customers.map((c) => system.customerOrders(c)));
    expect(read).toEqual(customers.map((c) => expected.get(c)));
    const statuses = new Set([...expected.values()].flat().map((o) => o.status));
    expect(statuses).toEqual(new Set(['CONFIRMED', 'CANCELLED']));
    // Every customer, not only the busiest: the whole read side equals the log.
    const everyone = [...expected.keys()];
    expect(new Map(await Promise.all(everyone.map(async (c) => [c, await system.customerOrders(c)] as const)))).toEqual(expected);
  }, 30_000);
});

describe('event sourcing read side', () => {
  it('is an OrderReader that names its path, and an unknown customer has no orders', async () => {
    await start({ placement: 'same-thread' });
    const system = running as EventSourcingSystem;
    expect(isOrderReader(system)).toBe(true);
    expect(system.readPath).toMatch(/^CQRS read model over HTTP: GET \/customers\/:id\/orders/);
    expect(await system.customerOrders('nobody')).toEqual([]);
    expect(await system.customerOrders('a/b %?#')).toEqual([]);
  });

  it("reads over the client's routed hop to the read model (es:read-model), so the run's faults reach it", async () => {
    network = new FaultNetwork(seededRandom(7));
    const generator = await start({ placement: 'same-thread' }, {}, network);
    const system = running as EventSourcingSystem;
    const order = generator.next();
    const outcome = await system.placeOrder(order);
    await system.drain(5000);
    const upstream = () => network?.stats().find((s) => s.hop === 'es:read-model')?.bytesUpstream ?? 0;
    const before = upstream();
    expect(await system.customerOrders(order.customerId)).toEqual([{ orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}) }]);
    expect(upstream() - before).toBeGreaterThanOrEqual(`GET /customers/${order.customerId}/orders HTTP/1.1\r\n`.length);
  });
});

describe('event sourcing read side with a delayed projection (projectionDelayMs)', () => {
  const DELAY_MS = 300;

  /** Polls the log (the write side) until the order's own stream says it is terminal. */
  async function decidedInLog(system: EventSourcingSystem, orderId: string): Promise<void> {
    for (;;) {
      const at = await system.stateAt(orderId, Number.POSITIVE_INFINITY);
      if (at && isTerminal(at.state.status)) return;
      await sleep(2);
    }
  }

  it('a read right after the log decides an order misses its terminal status; a read after the drain shows it', async () => {
    const generator = await start({ placement: 'same-thread' }, { projectionDelayMs: DELAY_MS });
    const system = running as EventSourcingSystem;
    const order = generator.next();
    const placing = system.placeOrder(order);
    await decidedInLog(system, order.orderId);
    const early = await system.customerOrders(order.customerId);
    const outcome = await placing;
    const settled = { orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}) };
    expect(early).not.toContainEqual(settled);
    await system.drain(5000);
    expect(await system.customerOrders(order.customerId)).toEqual([settled]);
    // The delay is in the projection's lag, where the stale reads come from.
    // Every event waited DELAY_MS before it was applied, so the mean (exact, unlike the percentiles) is at least that.
    expect((await system.projectionStats()).projectionLagMs.mean).toBeGreaterThanOrEqual(DELAY_MS);
  });

  it("a read right after the command is accepted does not show the order yet; one after the delay does", async () => {
    const generator = await start({ placement: 'same-thread' }, { projectionDelayMs: DELAY_MS });
    const system = running as EventSourcingSystem;
    const order = generator.next();
    const placing = system.placeOrder(order);
    while ((await system.stateAt(order.orderId, Number.POSITIVE_INFINITY)) === undefined) await sleep(2);
    expect(await system.customerOrders(order.customerId)).toEqual([]);
    await sleep(DELAY_MS + 100);
    expect((await system.customerOrders(order.customerId)).map((o) => o.orderId)).toEqual([order.orderId]);
    await placing;
  });

  it("the client's order completes when the log has its outcome, before the delayed read model applies it: its own read at once misses the terminal status, a later one shows it", async () => {
    const generator = await start({ placement: 'same-thread' }, { projectionDelayMs: DELAY_MS });
    const system = running as EventSourcingSystem;
    const order = generator.next();
    const outcome = await system.placeOrder(order);
    const settled = { orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}) };
    // The outcome is the log's: the order's stream ends in that terminal event.
    expect((await system.stateAt(order.orderId, Number.POSITIVE_INFINITY))?.state.status).toBe(outcome.status);
    expect(await system.customerOrders(order.customerId)).not.toContainEqual(settled);
    await system.drain(5000);
    expect(await system.customerOrders(order.customerId)).toEqual([settled]);
  });
});
