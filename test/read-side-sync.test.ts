/**
 * The read side of the synchronous patterns (issue #16): after a drained load, a read of a
 * customer's orders — over the pattern's own path, from the client on the main thread to
 * the orders service wherever the placement put it — gives exactly the orders that service
 * holds for the customer, with their statuses and reasons, oldest first.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { patternCards } from '../src/bench/runner.js';
import { FaultNetwork } from '../src/faults/network.js';
import type { Network } from '../src/net/address.js';
import { ThreadPool } from '../src/placement/pool.js';
import { escapeHtml, renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { directPattern } from '../src/patterns/direct/index.js';
import { createClient, unary } from '../src/patterns/grpc/calls.js';
import { grpcPattern, grpcStreamPattern } from '../src/patterns/grpc/index.js';
import { loadOrderProto } from '../src/patterns/grpc/proto.js';
import { channelOptions, GRPC_DEFAULTS } from '../src/patterns/grpc/services.js';
import { REST_READ_PATH, restPattern } from '../src/patterns/rest/index.js';
import { sagaOrchestrationPattern } from '../src/patterns/saga-orchestration/index.js';
import { isOrderReader, isWireMetered, type Address, type Drainable, type OrderReader, type Pattern, type RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import type { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { CancelReason, OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { loadAndCheck, startPattern } from './support/pattern.js';
import { completedRun, resultsDoc } from './support/results.js';

const READERS: readonly Pattern[] = [directPattern, restPattern, grpcPattern, grpcStreamPattern, sagaOrchestrationPattern];
const PLACEMENTS = ['same-thread', 'shared', 'per-service'] as const;
const LOAD_MS = 300;

/** The proto's CancelReason names. */
const REASON_NAMES: Readonly<Record<CancelReason, string>> = { out_of_stock: 'OUT_OF_STOCK', payment_declined: 'PAYMENT_DECLINED', downstream_error: 'DOWNSTREAM_ERROR' };

const pool = new ThreadPool();
afterAll(() => pool.close());

/** Every order the load takes from `generator`, in the order it was placed. */
function recordPlaced(generator: OrderGenerator): OrderRequest[] {
  const placed: OrderRequest[] = [];
  const next = generator.next.bind(generator);
  generator.next = () => {
    const order = next();
    placed.push(order);
    return order;
  };
  return placed;
}

function byCustomer(orders: readonly OrderRequest[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of orders) out.set(o.customerId, (out.get(o.customerId) ?? new Set()).add(o.orderId));
  return out;
}

/** A snapshot record as the read side gives it: id, status, and the reason only when there is one. */
function asRead(r: OrderRecord): OrderRecord {
  return r.reason ? { orderId: r.orderId, status: r.status, reason: r.reason } : { orderId: r.orderId, status: r.status };
}

function reader(running: RunningPattern): RunningPattern & OrderReader {
  if (!isOrderReader(running)) throw new Error('the pattern has no read side');
  return running;
}

/** Start, run a short closed-loop load, drain; the orders placed, by customer. */
async function loadedPattern(pattern: Pattern, placement: (typeof PLACEMENTS)[number], network?: Network) {
  const { running, generator } = await startPattern(pattern, { placement }, network, 42, pool);
  const placed = recordPlaced(generator);
  try {
    const { invariants } = await loadAndCheck(running, generator, { durationMs: LOAD_MS });
    expect(invariants.ok).toBe(true);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return { running: reader(running), customers: byCustomer(placed) };
}

describe.each(READERS.map((p) => [p.id, p] as const))('%s', (_id, pattern) => {
  it.each(PLACEMENTS)("returns each customer's orders with the snapshot's statuses and reasons, placed %s", async (placement) => {
    const { running, customers } = await loadedPattern(pattern, placement);
    try {
      const held = (await running.snapshot()).orders.orders;
      const seen = new Set<string>();
      for (const [customerId, ids] of customers) {
        // Oldest first is the orders service's own order: concurrent orders may reach it in another order than they were placed.
        const expected = held.filter((r) => ids.has(r.orderId)).map(asRead);
        expect(expected).toHaveLength(ids.size);
        const read = await running.customerOrders(customerId);
        expect(read).toEqual(expected);
        for (const r of read) seen.add(r.status);
      }
      // Both kinds of end among the customers read: a read that called everything CONFIRMED would fail.
      expect([...seen].sort()).toEqual(['CANCELLED', 'CONFIRMED']);
      expect(running.readPath).toBe(pattern.readPath);
    } finally {
      await running.stop();
    }
  }, 30_000);

  it('gives an unknown customer no orders', async () => {
    const { running } = await loadedPattern(pattern, 'same-thread');
    try {
      expect(await running.customerOrders('nobody-at-all')).toEqual([]);
    } finally {
      await running.stop();
    }
  }, 30_000);

  it('still reads every order while payments is down (orders holds the state)', async () => {
    const network = new FaultNetwork(seededRandom(3));
    const { running, customers } = await loadedPattern(pattern, 'same-thread', network);
    try {
      const [customerId] = [...customers.keys()];
      if (customerId === undefined) throw new Error('the load placed no orders');
      const before = await running.customerOrders(customerId);
      network.addFault('*:payments', { type: 'down' });
      expect(await running.customerOrders(customerId)).toEqual(before);
      expect(before).toHaveLength(customers.get(customerId)?.size ?? -1);
    } finally {
      await running.stop();
      await network.close();
    }
  }, 30_000);
});

describe('the pattern cards', () => {
  it('carry each read path, and the markdown and HTML reports print it in the card', () => {
    const doc = resultsDoc(READERS.map((p) => completedRun({ pattern: p.id })));
    const cards = patternCards(doc.config, READERS);
    expect(cards.map((c) => [c.id, c.readPath])).toEqual(READERS.map((p) => [p.id, p.readPath]));
    const md = renderMarkdown({ ...doc, patterns: cards });
    const html = renderHtml({ ...doc, patterns: cards }, []);
    for (const p of READERS) {
      expect(md).toContain(`*Read path:* ${p.readPath ?? ''}`);
      expect(html).toContain(`<p><strong>Read path:</strong> ${escapeHtml(p.readPath ?? '')}</p>`);
    }
    expect(REST_READ_PATH).toMatch(/^GET \/customers\/:id\/orders /);
  });
});

/** A network that routes every hop straight to its target and remembers where. */
function recordingNetwork(): { network: Network; at(hop: string): Address } {
  const routed = new Map<string, Address>();
  return {
    network: { route: async (hop, target) => (routed.set(hop, target), target) },
    at: (hop) => {
      const address = routed.get(hop);
      if (!address) throw new Error(`${hop} was not routed`);
      return address;
    },
  };
}

describe('the read side on the wire', () => {
  it('REST answers GET /customers/:id/orders with 200 and a JSON list of {orderId,status,reason?}, two messages metered (a 404 too)', async () => {
    const { network, at } = recordingNetwork();
    const { running, generator } = await startPattern(restPattern, { placement: 'same-thread' }, network);
    const client = new Pool(`http://${at('rest:orders').host}:${at('rest:orders').port}`);
    try {
      const declined = await placeUntil(running, generator, (o) => o.reason === 'payment_declined');
      if (!isWireMetered(running)) throw new Error('rest does not meter its wire');
      const wire = await running.wireStats();
      const res = await client.request({ method: 'GET', path: `/customers/${encodeURIComponent(declined.customerId)}/orders` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      const body = (await res.body.json()) as unknown;
      expect(body).toEqual(declined.orders);
      expect(body).toContainEqual(expect.objectContaining({ status: 'CANCELLED', reason: 'payment_declined' }));
      expect((await running.wireStats()).messages - wire.messages).toBe(2);
      const missing = await client.request({ method: 'GET', path: '/customers/nobody' });
      expect(missing.statusCode).toBe(404);
      expect(await missing.body.json()).toEqual({ error: 'no resource /customers/nobody (try /customers/<id>/orders)' });
      // A refused read is still a request and a response on the socket.
      expect((await running.wireStats()).messages - wire.messages).toBe(4);
    } finally {
      await client.destroy();
      await running.stop();
    }
  });

  it.each([
    ['grpc', grpcPattern, 'grpc:orders'],
    ['saga-orchestration', sagaOrchestrationPattern, 'saga:orchestrator'],
  ] as const)('%s: GetCustomerOrders answers the repeated Order message, enums by name, two messages metered (one for a refused read)', async (_id, pattern, hop) => {
    const { network, at } = recordingNetwork();
    const { running, generator } = await startPattern(pattern, { placement: 'same-thread' }, network);
    const client = createClient(at(hop), channelOptions(GRPC_DEFAULTS));
    try {
      const confirmed = await placeUntil(running, generator, (o) => o.status === 'CONFIRMED');
      if (!isWireMetered(running)) throw new Error(`${pattern.id} does not meter its wire`);
      const wire = await running.wireStats();
      const reply = await unary(client, loadOrderProto().OrderService.GetCustomerOrders, { customerId: confirmed.customerId }, 2000);
      expect(reply).toEqual({ orders: confirmed.orders.map((o) => ({ orderId: o.orderId, status: o.status, reason: o.reason ? REASON_NAMES[o.reason] : 'CANCEL_REASON_UNSPECIFIED' })) });
      expect(reply.orders).toContainEqual(expect.objectContaining({ status: 'CONFIRMED', reason: 'CANCEL_REASON_UNSPECIFIED' }));
      expect((await running.wireStats()).messages - wire.messages).toBe(2);
      expect(await unary(client, loadOrderProto().OrderService.GetCustomerOrders, { customerId: 'nobody' }, 2000)).toEqual({ orders: [] });
      await expect(unary(client, loadOrderProto().OrderService.GetCustomerOrders, { customerId: '' }, 2000)).rejects.toMatchObject({
        details: 'customer_id must be a non-empty string of at most 200 characters',
      });
      // Two reads answered (2 each), and one refused with INVALID_ARGUMENT: its request, and a status with no message.
      expect((await running.wireStats()).messages - wire.messages).toBe(2 + 2 + 1);
    } finally {
      client.close();
      await running.stop();
    }
  });
});

/**
 * Place orders one by one until one ends as `wanted` says, then drain: that order's
 * customer, and every order placed for that customer as the read side must list it.
 */
async function placeUntil(running: RunningPattern, generator: OrderGenerator, wanted: (o: OrderOutcome) => boolean) {
  const placed: { customerId: string; record: OrderRecord }[] = [];
  for (let i = 0; i < 1000; i++) {
    const order = generator.next();
    const { orderId, status, reason } = await running.placeOrder(order);
    const record: OrderRecord = reason ? { orderId, status, reason } : { orderId, status };
    placed.push({ customerId: order.customerId, record });
    if (!wanted(record as OrderOutcome)) continue;
    await (running as Partial<Drainable>).drain?.(5000);
    return { customerId: order.customerId, orders: placed.filter((p) => p.customerId === order.customerId).map((p) => p.record) };
  }
  throw new Error('no order of the kind wanted in 1000');
}
