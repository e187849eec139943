/**
 * `pattern-bench serve` for the patterns whose services meet at an event store: event
 * sourcing's command handler, projection and three processors, and the orchestrated saga's
 * orchestrator and its three gRPC participants, each an OS process of its own (the built
 * CLI: `npm run build` first), on the embedded store served by `serve --service event-store`
 * (and on PostgreSQL when DATABASE_URL is set), or for the saga log the orchestrator's own
 * memory. A client that knows only the listening services' URLs places orders; each
 * order's outcome is the one its customer and SKUs decide, the read side answers it, and
 * every process exits 0 on SIGTERM, leaving no process behind.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVE_SCHEMA } from '../src/cli/serve-command.js';
import type { Address } from '../src/net/address.js';
import { createCqrsClient } from '../src/patterns/event-sourcing/client.js';
import { createClient } from '../src/patterns/grpc/calls.js';
import { getCustomerOrders } from '../src/patterns/grpc/index.js';
import { channelOptions, GRPC_DEFAULTS } from '../src/patterns/grpc/services.js';
import { submitOrder } from '../src/patterns/saga-orchestration/index.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { composeServices } from './support/compose.js';
import { killLeftovers, marked, serve, terminate, type ServedProcess } from './support/serve.js';
import { DATABASE_URL, POSTGRES_RUNS } from './support/stores.js';

afterEach(killLeftovers);

const COMPOSE_ES = fileURLToPath(new URL('../docs/compose-event-sourcing.yaml', import.meta.url));

/** Where the services' log is: what `--event-store` they are given, and how it is stopped. */
interface Store {
  /** `--event-store`'s value; undefined: none given (the orchestrator's own memory). */
  readonly url: string | undefined;
  close(): Promise<void>;
}

interface StoreKind {
  readonly name: string;
  open(pattern: string, mark: string): Promise<Store>;
}

/** `serve --pattern P --service event-store`: the embedded store as a process of its own. */
const EMBEDDED: StoreKind = {
  name: 'the embedded event store (serve --service event-store)',
  open: async (pattern, mark) => {
    const store = await serve(['--pattern', pattern, '--service', 'event-store', '--port', '0'], mark);
    expect(store.line).toMatch(new RegExp(`^serving ${pattern} event-store on pbes://127\\.0\\.0\\.1:\\d+ \\(pid \\d+\\); Ctrl-C to stop$`));
    return { url: store.url, close: async () => expect(await terminate([store])).toEqual([0]) };
  },
};

/** The served services' schema dropped, so that a test starts on an empty log (served services keep theirs). */
async function dropServeSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${SERVE_SCHEMA} CASCADE`);
  } finally {
    await client.end();
  }
}

const POSTGRES: StoreKind = {
  name: 'PostgreSQL',
  open: async () => {
    const url = DATABASE_URL ?? '';
    await dropServeSchema(url);
    return { url, close: () => dropServeSchema(url) };
  },
};

const OWN_MEMORY: StoreKind = { name: "the orchestrator's own memory (no --event-store)", open: async () => ({ url: undefined, close: async () => {} }) };

const postgresToo = (kinds: readonly StoreKind[]) => (POSTGRES_RUNS ? [...kinds, POSTGRES] : kinds);

const addressOf = (url: string): Address => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });

/** The generator's orders: many for the scarce SKUs (3 units each: they run out), some from broke customers. */
function orders(count: number): OrderRequest[] {
  const generator = new OrderGenerator(seededRandom(7).fork(), { outOfStockShare: 0.4, declineShare: 0.3 });
  return Array.from({ length: count }, () => generator.next());
}

const SCARCE_STOCK = 3;
const scarceSku = (order: OrderRequest) => order.items.find((i) => i.sku.startsWith('hot-'))?.sku;
const verdict = (o: OrderOutcome | OrderRecord) => (o.reason ? `${o.status}/${o.reason}` : o.status);

/**
 * Each order ended as its customer and SKUs decide: a broke customer's is declined, an
 * order with no scarce SKU is confirmed, and of a scarce SKU's orders exactly as many as it
 * has units are confirmed (the others out of stock; nothing else runs out or declines).
 */
function expectOutcomes(placed: readonly OrderRequest[], outcomes: readonly OrderOutcome[]): void {
  const confirmedOf = new Map<string, number>();
  const orderedOf = new Map<string, number>();
  placed.forEach((order, i) => {
    const got = verdict(outcomes[i] ?? { orderId: order.orderId, status: 'PENDING' });
    const sku = scarceSku(order);
    if (sku === undefined) return expect(got, order.orderId).toBe(order.customerId.startsWith('broke-') ? 'CANCELLED/payment_declined' : 'CONFIRMED');
    expect(['CONFIRMED', 'CANCELLED/out_of_stock'], order.orderId).toContain(got);
    orderedOf.set(sku, (orderedOf.get(sku) ?? 0) + 1);
    if (got === 'CONFIRMED') confirmedOf.set(sku, (confirmedOf.get(sku) ?? 0) + 1);
  });
  for (const [sku, ordered] of orderedOf) expect(confirmedOf.get(sku) ?? 0, sku).toBe(Math.min(SCARCE_STOCK, ordered));
  expect(new Set(outcomes.map(verdict))).toEqual(new Set(['CONFIRMED', 'CANCELLED/payment_declined', 'CANCELLED/out_of_stock']));
}

/** One order of each verdict: whose reads to check. */
function oneOfEach(placed: readonly OrderRequest[], outcomes: readonly OrderOutcome[]): [OrderRequest, OrderOutcome][] {
  const first = new Map<string, [OrderRequest, OrderOutcome]>();
  placed.forEach((order, i) => {
    const outcome = outcomes[i];
    if (outcome && !first.has(verdict(outcome))) first.set(verdict(outcome), [order, outcome]);
  });
  return [...first.values()];
}

const record = (o: OrderOutcome): OrderRecord => (o.reason ? { orderId: o.orderId, status: o.status, reason: o.reason } : { orderId: o.orderId, status: o.status });

/** SIGTERM every service: each exits 0 and says it stopped. */
async function stopServices(pattern: string, services: readonly ServedProcess[]): Promise<void> {
  expect(await terminate(services)).toEqual(services.map(() => 0));
  for (const s of services) expect(s.err()).toMatch(new RegExp(`^${pattern} [\\w-]+ stopped$`, 'm'));
}

/**
 * 60 orders placed through the command handler at `commands`: each ends as its customer and
 * SKUs decide, and the read model at `queries` soon shows one order of each outcome as it ended.
 */
async function placeAndCheck(commands: string, queries: string): Promise<void> {
  const client = createCqrsClient(addressOf(commands), addressOf(queries), { connections: 16, connectTimeoutMs: 2000, timeoutMs: 30_000 });
  try {
    const placed = orders(60);
    const outcomes = await Promise.all(placed.map((o) => client.placeOrder(o)));
    expectOutcomes(placed, outcomes);
    // The read model is eventually consistent: each order shows there as it ended, soon.
    for (const [order, outcome] of oneOfEach(placed, outcomes)) {
      const deadline = Date.now() + 10_000;
      let read: OrderRecord | undefined;
      while (Date.now() < deadline && read?.status !== outcome.status) {
        read = (await client.customerOrders(order.customerId)).find((r) => r.orderId === order.orderId);
        if (read?.status !== outcome.status) await new Promise((r) => setTimeout(r, 50));
      }
      expect(read).toEqual(record(outcome));
    }
  } finally {
    await client.close();
  }
}

describe.each(postgresToo([EMBEDDED]))('pattern-bench serve --pattern event-sourcing on $name', (kind) => {
  it('the command handler, the projection and the three processors as five processes: outcomes from the write side, the same on the read side', async () => {
    const mark = randomUUID();
    const store = await kind.open('event-sourcing', mark);
    const storeUrl = store.url ?? '';
    const services = await Promise.all(['orders', 'projection', 'payments', 'inventory', 'notifications'].map((s) => serve(['--pattern', 'event-sourcing', '--service', s, '--event-store', storeUrl], mark)));
    const [commands, queries, ...processors] = services as [ServedProcess, ServedProcess, ...ServedProcess[]];
    for (const p of processors) expect(p.line).toMatch(/^serving event-sourcing \w+ through (pbes|postgres):\/\/\S+ \(pid \d+\); Ctrl-C to stop$/);
    expect(new Set(services.map((s) => s.child.pid)).size).toBe(5);

    await placeAndCheck(commands.url, queries.url);
    await stopServices('event-sourcing', services);
    await store.close();
    expect(marked(mark)).toEqual([]);
  }, 90_000);
});

describe.runIf(POSTGRES_RUNS)('docs/compose-event-sourcing.yaml', () => {
  it('its five serve commands, run as they stand (127.0.0.1 for the container names, this machine\'s PostgreSQL for its own): the same outcomes, on its published ports 8180 and 8190', async () => {
    const url = DATABASE_URL ?? '';
    const { serves, engines } = composeServices(COMPOSE_ES, { 'postgres://postgres@postgres:5432/postgres': url });
    expect(engines).toEqual(['postgres']);
    expect(serves.map((s) => s.name)).toEqual(['orders', 'projection', 'payments', 'inventory', 'notifications']);
    await dropServeSchema(url);
    const mark = randomUUID();
    const services = await Promise.all(serves.map((s) => serve(s.args, mark)));
    expect(services.slice(0, 2).map((s) => s.url)).toEqual(['http://127.0.0.1:8180', 'http://127.0.0.1:8190']);
    for (const p of services.slice(2)) expect(p.line).toMatch(/^serving event-sourcing \w+ through postgres:\/\/\S+ \(pid \d+\); Ctrl-C to stop$/);
    await placeAndCheck('http://127.0.0.1:8180', 'http://127.0.0.1:8190');
    await stopServices('event-sourcing', services);
    await dropServeSchema(url);
    expect(marked(mark)).toEqual([]);
  }, 90_000);
});

describe.each(postgresToo([OWN_MEMORY, EMBEDDED]))('pattern-bench serve --pattern saga-orchestration, the saga log in $name', (kind) => {
  it('the orchestrator and its three gRPC participants as four processes: each saga ends as its order decides, GetCustomerOrders answers it', async () => {
    const mark = randomUUID();
    const store = await kind.open('saga-orchestration', mark);
    const participants = await Promise.all(['inventory', 'payments', 'notifications'].map((s) => serve(['--pattern', 'saga-orchestration', '--service', s, '--port', '0'], mark)));
    const [inventory, payments, notifications] = participants as [ServedProcess, ServedProcess, ServedProcess];
    const orchestrator = await serve(
      [
        '--pattern', 'saga-orchestration', '--service', 'orchestrator', '--port', '0',
        '--peer', `inventory=${inventory.url}`, '--peer', `payments=${payments.url}`, '--peer', `notifications=${notifications.url}`,
        ...(store.url === undefined ? [] : ['--event-store', store.url]),
      ],
      mark,
    );
    const log = store.url === undefined ? "in this process's memory" : `at ${store.url.startsWith('pbes:') ? 'pbes://127\\.0\\.0\\.1:\\d+' : 'postgres://\\S+'}`;
    expect(orchestrator.line).toMatch(new RegExp(`^serving saga-orchestration orchestrator on http://127\\.0\\.0\\.1:\\d+ with the saga log ${log} \\(pid \\d+\\); Ctrl-C to stop$`));

    const client = createClient(addressOf(orchestrator.url), channelOptions(GRPC_DEFAULTS));
    try {
      const placed = orders(60);
      const outcomes = await Promise.all(placed.map((o) => submitOrder(client, o, 30_000)));
      expectOutcomes(placed, outcomes);
      for (const [order, outcome] of oneOfEach(placed, outcomes)) {
        const read = (await getCustomerOrders(client, order.customerId, 5000)).find((r) => r.orderId === order.orderId);
        expect(read).toEqual(record(outcome));
      }
    } finally {
      client.close();
    }
    await stopServices('saga-orchestration', [orchestrator, ...participants]);
    await store.close();
    expect(marked(mark)).toEqual([]);
  }, 90_000);
});
