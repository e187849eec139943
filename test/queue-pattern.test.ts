import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEvent, ORDER_CANCELLED, ORDER_CONFIRMED, PLACE_ORDER } from '../src/amqp/events.js';
import { EventDrivenSystem as QueueSystem } from '../src/amqp/system.js';
import { runLoad, type LoadResult, type LoadShape } from '../src/bench/loadgen.js';
import { KEYS, queuePattern } from '../src/patterns/queue/index.js';
import { FaultNetwork } from '../src/faults/network.js';
import type { RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import type { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants, type InvariantReport } from '../src/workflow/invariants.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { BROKERS, brokerName } from './support/brokers.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

/**
 * Every message an order causes, by how it ended (src/amqp/system.ts, src/amqp/service.ts,
 * the queue workflow): [routing key, times it is counted, what it carries]. A message is
 * counted once by its publisher and once by each consumer it reaches — the client publishes
 * the command and receives the outcome; orders, payments and inventory each receive one
 * message and publish the next; notifications and the client both receive the outcome;
 * stock.rejected reaches payments (the refund) and orders.
 */
const FLOWS = {
  CONFIRMED: [[PLACE_ORDER, 2, 'order'], [KEYS.orderPlaced, 2, 'order'], [KEYS.paymentCharged, 2, 'order'], [KEYS.stockReserved, 2, 'order'], [ORDER_CONFIRMED, 3, 'outcome']],
  payment_declined: [[PLACE_ORDER, 2, 'order'], [KEYS.orderPlaced, 2, 'order'], [KEYS.paymentDeclined, 2, 'order'], [ORDER_CANCELLED, 3, 'outcome']],
  out_of_stock: [[PLACE_ORDER, 2, 'order'], [KEYS.orderPlaced, 2, 'order'], [KEYS.paymentCharged, 2, 'order'], [KEYS.stockRejected, 3, 'order'], [ORDER_CANCELLED, 3, 'outcome']],
} as const satisfies Record<string, readonly (readonly [string, number, 'order' | 'outcome'])[]>;
type Flow = (typeof FLOWS)[keyof typeof FLOWS];

const countOf = (flow: Flow): number => flow.reduce((n, [, times]) => n + times, 0);
/** The fewest messages an order causes (a declined payment: 9). */
const MIN_MESSAGES_PER_ORDER = Math.min(...Object.values(FLOWS).map(countOf));

/**
 * The fewest bytes one counted message puts on its metered socket: a basic.publish or
 * basic.deliver is three frames (7-byte header + frame-end each: 24), the method's class
 * and method ids (4) and its exchange and routing-key short strings (1 + 1 + key), the
 * content header's class, weight, body size and property flags (14), and the body.
 */
const minBytes = (key: string, body: Buffer): number => 24 + 4 + 2 + key.length + 14 + body.length;

function flowOf(outcome: OrderOutcome): Flow {
  if (outcome.status === 'CONFIRMED') return FLOWS.CONFIRMED;
  if (outcome.reason === 'payment_declined' || outcome.reason === 'out_of_stock') return FLOWS[outcome.reason];
  throw new Error(`order ${outcome.orderId} ended ${outcome.status}/${String(outcome.reason)}, which no baseline flow has`);
}

/** Messages and the least bytes the protocol needs for these orders. */
function expectedWire(settled: readonly Settled[]): { messages: number; minBytes: number } {
  let messages = 0;
  let bytes = 0;
  for (const { order, outcome } of settled) {
    const bodies = {
      order: encodeEvent({ order }),
      outcome: encodeEvent(outcome.reason ? { orderId: outcome.orderId, status: outcome.status, reason: outcome.reason } : { orderId: outcome.orderId, status: outcome.status }),
    };
    for (const [key, times, body] of flowOf(outcome)) {
      messages += times;
      bytes += times * minBytes(key, bodies[body]);
    }
  }
  return { messages, minBytes: bytes };
}

interface Settled {
  readonly order: OrderRequest;
  readonly outcome: OrderOutcome;
  /** performance.now() when placeOrder was called and when it resolved. */
  readonly startedAt: number;
  readonly settledAt: number;
}

/** Drive `shape` for `durationMs` keeping every order with its outcome, drain, check the invariants. */
async function measure(
  system: QueueSystem,
  generator: OrderGenerator,
  shape: LoadShape,
  durationMs: number,
): Promise<{ load: LoadResult; settled: Settled[]; invariants: InvariantReport }> {
  const settled: Settled[] = [];
  const target = {
    placeOrder: async (order: OrderRequest) => {
      const startedAt = performance.now();
      const outcome = await system.placeOrder(order);
      settled.push({ order, outcome, startedAt, settledAt: performance.now() });
      return outcome;
    },
  };
  const load = await runLoad(target, { shape, warmupMs: 0, durationMs, drainTimeoutMs: 10_000, nextOrder: () => generator.next() });
  await system.drain(10_000);
  const invariants = checkInvariants({ placed: load.placed.orders(), accepted: load.placed.acceptedIds(), snapshot: await system.snapshot() });
  return { load, settled, invariants };
}

/** Orders placed while payments is down, how long it stays down, and the delay on what the broker sends the client meanwhile. */
const BACKLOG_ORDERS = 40;
const PAYMENTS_DOWN_MS = 1000;
const CLIENT_DELAY_MS = 20;

/**
 * Kill payments' broker connection (it comes back `downMs` after it died), delay what the
 * broker sends the client (its publish confirms) by CLIENT_DELAY_MS, place `n` orders at
 * once, and drain. The broker confirms each command and the orders service passes each
 * order on, but every order's next message waits, ready, in payments' queue until payments
 * is back: a backlog of `n` by construction, not by outrunning a consumer. No accept can
 * come sooner than CLIENT_DELAY_MS after its order's start (less 1 ms: the fault proxy
 * releases what is due within its timer's 1 ms granularity). `backAt`: the earliest
 * payments can consume again (its downtime counts from its death, which comes after
 * `downAt`); `drainFrom`: no earlier than the drain's own start.
 */
async function placeWhilePaymentsDown(system: QueueSystem, network: FaultNetwork, generator: OrderGenerator, n: number, downMs: number) {
  const downAt = performance.now();
  await system.crash('payments', downMs);
  const delay = network.addFault('amqp:client', { type: 'latency', latencyMs: CLIENT_DELAY_MS, direction: 'downstream' });
  const placing = Array.from({ length: n }, async (): Promise<Settled> => {
    const order = generator.next();
    const startedAt = performance.now();
    const outcome = await system.placeOrder(order);
    return { order, outcome, startedAt, settledAt: performance.now() };
  });
  const draining = system.drain(10_000);
  const drainFrom = performance.now(); // drain() read its clock synchronously, before this
  await draining;
  const settled = await Promise.all(placing);
  network.removeFault('amqp:client', delay);
  return { settled, backAt: downAt + downMs, drainFrom };
}

let running: RunningPattern | undefined;
const networks: FaultNetwork[] = [];
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const n of networks.splice(0)) await n.close();
});

describe.each(BROKERS)('queue pattern on %s', (broker) => {
  it(`keeps every invariant in baseline and reports accept, wire and backlog (${brokerName(broker)})`, async () => {
    const network = new FaultNetwork(seededRandom(5)); // no fault until the backlog below
    networks.push(network);
    const started = await startPattern(queuePattern, { broker }, network);
    running = started.running;
    const system = running as QueueSystem;
    expect(system.transport.protocol).toBe('AMQP 0-9-1');
    expect(system.transport.broker).toMatch(broker === 'embedded' ? /^pattern-bench embedded broker \d/ : /^RabbitMQ \d/);
    const { load, settled, invariants } = await measure(system, started.generator, { kind: 'closed', concurrency: 16 }, 800);
    expect(invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    const { outcomes, latency, acceptLatency } = load;
    expect(outcomes).toMatchObject({ failed: 0, timedOut: 0 });
    expect(outcomes.placed).toBeGreaterThan(0);
    expect(outcomes.confirmed + outcomes.cancelled).toBe(outcomes.placed);
    expect(settled).toHaveLength(load.placed.size);

    // Accept: every order has one, after its start (a broker round trip: never the start
    // itself) and no later than its outcome; the broker confirms the command before the
    // workflow behind it is done, so accept p50 < end-to-end p50.
    expect(settled.filter(({ outcome, startedAt, settledAt }) => !(outcome.acceptedAt !== undefined && startedAt < outcome.acceptedAt && outcome.acceptedAt <= settledAt))).toEqual([]);
    expect(latency.count).toBe(outcomes.placed);
    expect(acceptLatency?.count).toBe(outcomes.placed);
    expect(acceptLatency?.p50).toBeLessThan(latency.p50);

    // Wire: every message of every order's flow, counted once where it is published and once
    // where it is delivered (a redelivery may only add); bytes at least what those messages'
    // frames and bodies take, and not twice that.
    const wire = await system.wireStats();
    const expected = expectedWire(settled);
    expect(wire.messages).toBeGreaterThanOrEqual(expected.messages);
    expect(wire.messages).toBeGreaterThanOrEqual(MIN_MESSAGES_PER_ORDER * load.placed.size);
    expect(wire.messages).toBeLessThanOrEqual(2 * MIN_MESSAGES_PER_ORDER * load.placed.size);
    expect(wire.bytes).toBeGreaterThanOrEqual(expected.minBytes);
    expect(wire.bytes).toBeLessThanOrEqual(2 * expected.minBytes);

    // Backlog and accept, whatever the machine's speed: orders placed while payments is down
    // must wait in its queue, and their answers must wait for it; their accepts must not.
    const down = await placeWhilePaymentsDown(system, network, started.generator, BACKLOG_ORDERS, PAYMENTS_DOWN_MS);
    expect(down.settled).toHaveLength(BACKLOG_ORDERS);
    expect(down.settled.filter(({ settledAt }) => settledAt < down.backAt)).toEqual([]);
    expect(down.settled.filter(({ outcome, startedAt }) => !(outcome.acceptedAt !== undefined && outcome.acceptedAt - startedAt >= CLIENT_DELAY_MS - 1 && outcome.acceptedAt < down.backAt))).toEqual([]);
    const backlog = await system.backlog();
    // Every one of them waited, ready, in payments' queue at once (the poller samples every 100 ms of a 1 s downtime).
    expect(backlog.peakDepth).toBeGreaterThanOrEqual(BACKLOG_ORDERS);
    // The drain began before payments came back and cannot end before it is back and has worked off the queue.
    expect(down.backAt - down.drainFrom).toBeGreaterThan(0);
    expect(backlog.drainMs).toBeGreaterThanOrEqual(down.backAt - down.drainFrom);
    expect(await system.deadLettered()).toBe(0);
  });

  it(`queues a burst that outruns the consumers, then drains it keeping every invariant (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker });
    running = started.running;
    const system = running as QueueSystem;
    // 2,000 orders in 200 ms, many times what the consumers finish in that time (prefetch lets
    // them hold 64 messages each): the rest wait, ready, in the queues, and the depth poller sees them.
    const { load, invariants } = await measure(system, started.generator, { kind: 'open', rate: 10_000 }, 200);
    expect(invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    expect(load.outcomes).toMatchObject({ failed: 0, timedOut: 0 });
    expect(load.outcomes.confirmed + load.outcomes.cancelled).toBe(load.outcomes.placed);
    const backlog = await system.backlog();
    expect(backlog.peakDepth).toBeGreaterThan(0);
    expect(backlog.drainMs).not.toBeNull();
    expect(await system.deadLettered()).toBe(0);
  });

  it(`loses nothing when a consumer's connection is killed mid-batch (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker });
    running = started.running;
    const system = running as QueueSystem;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      at: {
        ms: 500,
        action: async () => {
          await system.crash('inventory');
          await system.crash('payments');
        },
      },
    });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0, leakedReservations: 0 });
    expect(r.invariants.duplicatesAbsorbed).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
  });

  it(`with --queue-ack auto the same kill loses orders, and the checker says so (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker, queueAck: 'auto' });
    running = started.running;
    const system = running as QueueSystem;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      drainMs: 1500,
      shape: { kind: 'open', rate: 3000 },
      at: { ms: 500, action: () => system.crash('inventory') },
    });
    expect(r.invariants.ok).toBe(false);
    expect(r.invariants.stuck + r.invariants.lost).toBeGreaterThan(0);
  });

  it(`keeps every accepted order when every broker connection drops mid-run (${brokerName(broker)})`, async () => {
    // The network drops every connection to the broker (RST), as a broker restart or a
    // load balancer would; the services stay up, reconnect and republish what was unconfirmed.
    const network = new FaultNetwork(seededRandom(3));
    networks.push(network);
    const started = await startPattern(queuePattern, { broker }, network);
    running = started.running;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      at: {
        ms: 500,
        action: () => {
          const name = network.addFault('amqp:*', { type: 'reset_peer' });
          setTimeout(() => network.removeFault('amqp:*', name), 100);
        },
      },
    });
    expect(network.stats().reduce((n, h) => n + h.resets, 0)).toBeGreaterThanOrEqual(5);
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0 });
    expect(r.failed).toBe(0);
  });
});
