/**
 * `pattern-bench serve`: REST's (and gRPC's) four services, each started by the built CLI
 * as an OS process of its own (`npm run build` first), wired by --peer, take orders from a
 * client that knows only the orders service's URL; each stops on SIGTERM and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address } from '../src/net/address.js';
import { createGrpcClient } from '../src/patterns/grpc/index.js';
import { createRestClient } from '../src/patterns/rest/index.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { BIN, runMain } from './support/cli.js';
import { composeServices } from './support/compose.js';

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly closed: Promise<number | null>;
  err(): string;
}

const started: Served[] = [];
afterEach(() => {
  for (const s of started.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

/** Start `pattern-bench serve args…` and wait for its `serving … on <url>` line. */
function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const url = /^serving \S+ \S+ on (http:\/\/\S+) \(pid \d+\)/m.exec(err)?.[1];
      if (url) {
        const served = { child, url, closed, err: () => err };
        started.push(served);
        resolve(served);
      }
    });
    void closed.then((code) => reject(new Error(`serve ${args.join(' ')} exited with ${code} before serving:\n${err}`)));
  });
}

interface Client {
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  customerOrders(customerId: string): Promise<readonly OrderRecord[]>;
  close(): void | Promise<void>;
}

const CLIENTS: readonly [string, (address: Address) => Client][] = [
  ['rest', (address) => createRestClient(address)],
  ['grpc', (address) => createGrpcClient(address)],
];

/**
 * 150 of the generator's orders placed at `orders` (many for the scarce SKUs, 3 units each:
 * they run out and are refunded; some from broke customers: declined) end confirmed or
 * cancelled for both reasons, and the orders service's read side has them as the client saw
 * them; then every service stops on SIGTERM with exit 0.
 */
async function placeAndStop(pattern: string, connect: (address: Address) => Client, orders: Served, all: readonly Served[]): Promise<void> {
  const { hostname, port } = new URL(orders.url);
  const client = connect({ host: hostname, port: Number(port) });
  try {
    // The generator's orders: many for the scarce SKUs (3 units each: they run out → refunded), some from broke customers (declined).
    const generator = new OrderGenerator(seededRandom(42).fork(), { outOfStockShare: 0.5, declineShare: 0.2 });
    const placed = Array.from({ length: 150 }, () => generator.next());
    const outcomes = await Promise.all(placed.map((o) => client.placeOrder(o)));
    const statuses = new Set(outcomes.map((o) => o.status));
    expect(statuses).toEqual(new Set(['CONFIRMED', 'CANCELLED']));
    const reasons = new Set(outcomes.flatMap((o) => (o.status === 'CANCELLED' ? [o.reason] : [])));
    expect(reasons).toEqual(new Set(['payment_declined', 'out_of_stock']));
    // The read side of the orders process has them, as the client saw them.
    const first = placed[0];
    if (!first) throw new Error('no order');
    const read = await client.customerOrders(first.customerId);
    expect(read.find((r) => r.orderId === first.orderId)?.status).toBe(outcomes[0]?.status);
  } finally {
    await client.close();
  }
  for (const s of all) s.child.kill('SIGTERM');
  expect(await Promise.all(all.map((s) => s.closed))).toEqual([0, 0, 0, 0]);
  for (const s of all) expect(s.err()).toMatch(new RegExp(`^${pattern} \\w+ stopped$`, 'm'));
}

describe.each(CLIENTS)('pattern-bench serve --pattern %s', (pattern, connect) => {
  it('four services as four processes: orders placed at orders run the workflow through the other three (confirmed, declined, out of stock and refunded)', async () => {
    const [inventory, payments, notifications] = await Promise.all(['inventory', 'payments', 'notifications'].map((s) => serve(['--pattern', pattern, '--service', s, '--port', '0'])));
    const orders = await serve([
      '--pattern', pattern, '--service', 'orders', '--port', '0',
      '--peer', `inventory=${inventory?.url}`, '--peer', `payments=${payments?.url}`, '--peer', `notifications=${notifications?.url}`,
    ]);
    const all = [inventory, payments, notifications, orders] as Served[];
    expect(new Set(all.map((s) => s.child.pid)).size).toBe(4);
    await placeAndStop(pattern, connect, orders, all);
  }, 60_000);
});

describe('docs/compose.yaml', () => {
  it("its four serve commands, run as they stand (127.0.0.1 for the container names): REST's workflow on the published port 8080", async () => {
    const { serves, engines } = composeServices(fileURLToPath(new URL('../docs/compose.yaml', import.meta.url)), {});
    expect(engines).toEqual([]);
    expect(serves.map((s) => s.name)).toEqual(['inventory', 'payments', 'notifications', 'orders']);
    const all = await Promise.all(serves.map((s) => serve(s.args)));
    expect(all.map((s) => s.url)).toEqual(['http://127.0.0.1:8081', 'http://127.0.0.1:8082', 'http://127.0.0.1:8083', 'http://127.0.0.1:8080']);
    await placeAndStop('rest', (address) => createRestClient(address), all[3] as Served, all);
  }, 60_000);
});

describe('serve: bad input is one line and exit 2', () => {
  const cli = (...args: string[]) => runMain(['serve', ...args]);
  const cases: [string[], string][] = [
    [['--pattern', 'soap', '--service', 'orders'], 'pattern-bench: unknown value for --pattern: "soap" (known: direct, rest, grpc, grpc-stream, queue, event-sourcing, saga-choreography, saga-orchestration)'],
    [
      ['--pattern', 'direct', '--service', 'orders'],
      'pattern-bench: invalid value for --pattern: "direct" (expected a pattern serve can run: rest, grpc, grpc-stream, queue, event-sourcing, saga-choreography, saga-orchestration; direct is one program whose modules call each other as functions: it has no services to serve apart)',
    ],
    [
      ['--pattern', 'event-sourcing', '--service', 'payments'],
      "pattern-bench: invalid value for --event-store: \"\" (expected the event store event-sourcing's payments reads and appends to: a pbes://host:port URL (`pattern-bench serve --pattern event-sourcing --service event-store`) or a postgres:// URL)",
    ],
    [['--pattern', 'event-sourcing', '--service', 'payments', '--event-store', 'memory'], 'pattern-bench: invalid value for --event-store: "memory" (expected a pbes://host:port URL (`pattern-bench serve --pattern event-sourcing --service event-store`) or a postgres:// URL)'],
    [['--pattern', 'event-sourcing', '--service', 'orders', '--event-store', 'http://127.0.0.1:1'], 'pattern-bench: invalid value for --event-store: "http://127.0.0.1:1" (expected a pbes://host:port URL (`pattern-bench serve --pattern event-sourcing --service event-store`) or a postgres:// URL)'],
    [['--pattern', 'event-sourcing', '--service', 'orders', '--event-store', 'pbes://127.0.0.1'], 'pattern-bench: invalid value for --event-store: "pbes://127.0.0.1" (expected a pbes://host:port URL (`pattern-bench serve --pattern event-sourcing --service event-store`) or a postgres:// URL)'],
    [
      ['--pattern', 'event-sourcing', '--service', 'payments', '--event-store', 'pbes://127.0.0.1:1', '--port', '8080'],
      "pattern-bench: --service payments and --port cannot be used together: event-sourcing's payments listens on nothing: it follows the event store's log (--event-store)",
    ],
    [
      ['--pattern', 'event-sourcing', '--service', 'inventory', '--event-store', 'pbes://127.0.0.1:1', '--host', '0.0.0.0'],
      "pattern-bench: --service inventory and --host cannot be used together: event-sourcing's inventory listens on nothing: it follows the event store's log (--event-store)",
    ],
    [
      ['--pattern', 'event-sourcing', '--service', 'orders', '--event-store', 'pbes://127.0.0.1:1', '--broker', 'amqp://127.0.0.1:5672'],
      "pattern-bench: --pattern event-sourcing and --broker cannot be used together: event-sourcing's services meet at the event store (--event-store), through no broker",
    ],
    [
      ['--pattern', 'event-sourcing', '--service', 'event-store', '--event-store', 'pbes://127.0.0.1:1'],
      'pattern-bench: --service event-store and --event-store cannot be used together: event-store is the store: the other services are given its URL as --event-store pbes://host:port',
    ],
    [['--pattern', 'event-sourcing', '--service', 'billing'], 'pattern-bench: unknown value for --service: "billing" (known: orders, projection, payments, inventory, notifications, event-store)'],
    [['--pattern', 'event-sourcing', '--service', 'orders', '--peer', 'payments=http://127.0.0.1:1'], 'pattern-bench: invalid value for --peer: "payments=http://127.0.0.1:1" (expected no --peer: orders calls no other service)'],
    [['--pattern', 'event-sourcing', '--service', 'payments', '--event-store', 'pbes://127.0.0.1:1'], 'pattern-bench: cannot reach --event-store "pbes://127.0.0.1:1": ECONNREFUSED'],
    [['--pattern', 'event-sourcing', '--service', 'projection', '--event-store', 'postgres://127.0.0.1:1/x'], 'pattern-bench: cannot reach --event-store "postgres://127.0.0.1:1/x": connection refused'],
    [
      ['--pattern', 'saga-orchestration', '--service', 'orchestrator'],
      'pattern-bench: invalid value for --peer: "" (expected orchestrator calls inventory, payments, notifications: give --peer inventory=url --peer payments=url --peer notifications=url)',
    ],
    [['--pattern', 'saga-orchestration', '--service', 'orders'], 'pattern-bench: unknown value for --service: "orders" (known: orchestrator, inventory, payments, notifications, event-store)'],
    [
      ['--pattern', 'saga-orchestration', '--service', 'payments', '--event-store', 'pbes://127.0.0.1:1'],
      "pattern-bench: --service payments and --event-store cannot be used together: saga-orchestration's payments keeps no log: the saga log is the orchestrator's",
    ],
    [
      ['--pattern', 'saga-orchestration', '--service', 'orchestrator', '--peer', 'inventory=http://127.0.0.1:1', '--peer', 'payments=http://127.0.0.1:2', '--peer', 'notifications=http://127.0.0.1:3', '--event-store', 'mysql://x'],
      'pattern-bench: invalid value for --event-store: "mysql://x" (expected "memory" (this process\'s own, the default) or a pbes://host:port URL (`pattern-bench serve --pattern saga-orchestration --service event-store`) or a postgres:// URL)',
    ],
    [
      ['--pattern', 'saga-orchestration', '--service', 'payments', '--broker', 'amqp://127.0.0.1:5672'],
      "pattern-bench: --pattern saga-orchestration and --broker cannot be used together: saga-orchestration's orchestrator calls the participants directly, through no broker",
    ],
    [['--pattern', 'rest', '--service', 'payments', '--event-store', 'pbes://127.0.0.1:1'], "pattern-bench: --pattern rest and --event-store cannot be used together: rest's services keep their state in memory: they use no event store"],
    [
      ['--pattern', 'queue', '--service', 'payments', '--broker', 'amqp://127.0.0.1:1', '--event-store', 'pbes://127.0.0.1:1'],
      "pattern-bench: --pattern queue and --event-store cannot be used together: queue's services keep their state in memory: they use no event store",
    ],
    [['--pattern', 'queue', '--service', 'orders'], 'pattern-bench: invalid value for --broker: "" (expected the broker queue\'s services meet at: an amqp:// URL (RabbitMQ, or `pattern-bench broker`))'],
    [['--pattern', 'queue', '--service', 'orders', '--broker', 'amqp://127.0.0.1:5672', '--port', '8080'], "pattern-bench: --pattern queue and --port cannot be used together: queue's services listen on nothing: each connects to the broker (--broker)"],
    [['--pattern', 'rest', '--service', 'payments', '--broker', 'amqp://127.0.0.1:5672'], "pattern-bench: --pattern rest and --broker cannot be used together: rest's services call each other directly, through no broker"],
    [['--pattern', 'rest', '--service', 'billing'], 'pattern-bench: unknown value for --service: "billing" (known: orders, inventory, payments, notifications)'],
    [['--pattern', 'rest', '--service', 'payments', '--port', '70000'], 'pattern-bench: invalid value for --port: "70000" (expected a port number from 0 to 65535)'],
    [['--pattern', 'rest', '--service', 'payments', '--peer', 'orders=http://127.0.0.1:1'], 'pattern-bench: invalid value for --peer: "orders=http://127.0.0.1:1" (expected no --peer: payments calls no other service)'],
    [
      ['--pattern', 'rest', '--service', 'orders', '--peer', 'inventory=http://127.0.0.1:8081'],
      'pattern-bench: invalid value for --peer: "inventory=http://127.0.0.1:8081" (expected orders calls inventory, payments, notifications: give --peer payments=url --peer notifications=url)',
    ],
    [['--pattern', 'rest', '--service', 'orders', '--peer', 'inventory=127.0.0.1:8081'], 'pattern-bench: invalid value for --peer: "inventory=127.0.0.1:8081" (expected name=http://host:port, e.g. payments=http://127.0.0.1:8082)'],
    [['--service', 'orders'], "pattern-bench: required option '--pattern <id>' not specified"],
  ];
  it.each(cases)('serve %j', async (args, line) => {
    expect(await cli(...args)).toEqual({ code: 2, out: '', err: `${line}\n` });
  });
});
