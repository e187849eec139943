import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/bench/loadgen.js';
import { InvalidOptionError, ServiceUnreachableError } from '../src/errors.js';
import { FaultNetwork } from '../src/faults/network.js';
import { eventSourcingPattern, EventSourcingSystem, isProjectionStatsReporter } from '../src/patterns/event-sourcing/index.js';
import { seededRandom } from '../src/random.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { EVENT_STORES, storeName } from './support/stores.js';
import { startPattern } from './support/pattern.js';

/** How long the payments processor stays down while orders are placed, to tell their accept from their outcome. */
const PAYMENTS_DOWN_MS = 1000;
/** The delay then on the command side's answers to the client: the least an accept can take. */
const COMMAND_DELAY_MS = 20;

let running: EventSourcingSystem | undefined;
const networks: FaultNetwork[] = [];
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const n of networks.splice(0)) await n.close();
});

describe('event-sourcing pattern start', () => {
  it('rejects an --event-store that is neither memory nor a postgres:// URL', async () => {
    const err = await startPattern(eventSourcingPattern, { eventStore: 'mysql://db/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe('invalid value for --event-store: "mysql://db/x" (expected "memory" or a postgres://user@host:port/database URL)');
  });

  it('fails with ServiceUnreachableError when the database does not answer', async () => {
    const err = await startPattern(eventSourcingPattern, { eventStore: 'postgres://postgres@127.0.0.1:1/test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect(err).toMatchObject({ code: 'PB_ERR_SERVICE_UNREACHABLE', exitCode: 2 });
    expect((err as Error).message).toBe('cannot reach --event-store "postgres://postgres@127.0.0.1:1/test": connection refused');
  });

  it.each(EVENT_STORES)('dials the store once per component (es-store:<component>), the command side (es:orders) and the read model (es:read-model) through the run network (%s)', async (eventStore) => {
    const hops: string[] = [];
    const network = { route: async (hop: string, target: { host: string; port: number }) => (hops.push(hop), target) };
    const started = await startPattern(eventSourcingPattern, { eventStore }, network);
    running = started.running as EventSourcingSystem;
    expect(hops).toEqual(['es-store:orders', 'es-store:payments', 'es-store:inventory', 'es-store:notifications', 'es-store:projection', 'es:orders', 'es:read-model']);
  });
});

describe.each(EVENT_STORES)('event-sourcing pattern on %s', (eventStore) => {
  it(`keeps every invariant under baseline load and reports accept latency and projection figures (${storeName(eventStore)})`, async () => {
    const routed = new Map<string, { host: string; port: number }>();
    const faults = new FaultNetwork(seededRandom(5)); // no fault until the last part
    networks.push(faults);
    const network = { route: async (hop: string, target: { host: string; port: number }) => (routed.set(hop, target), faults.route(hop, target)) };
    const started = await startPattern(eventSourcingPattern, { eventStore }, network);
    running = started.running as EventSourcingSystem;
    const system = running;
    // Each order with when it was placed, accepted (the 202) and answered (terminal in the read model).
    const timings: { startedAt: number; acceptedAt: number | undefined; settledAt: number }[] = [];
    const target = {
      placeOrder: async (order: OrderRequest) => {
        const startedAt = performance.now();
        const outcome = await system.placeOrder(order);
        timings.push({ startedAt, acceptedAt: outcome.acceptedAt, settledAt: performance.now() });
        return outcome;
      },
    };
    const load = await runLoad(target, { shape: { kind: 'closed', concurrency: 16 }, warmupMs: 0, durationMs: 1000, drainTimeoutMs: 10_000, nextOrder: () => started.generator.next() });
    await running.drain(10_000);
    const invariants = checkInvariants({ placed: load.placed.orders(), accepted: load.placed.acceptedIds(), snapshot: await running.snapshot() });
    expect(invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    const placed = load.placed.size;
    const { outcomes, latency, acceptLatency } = load;
    expect(outcomes).toMatchObject({ placed, failed: 0, timedOut: 0 });
    expect(outcomes.confirmed + outcomes.cancelled).toBe(placed);
    expect(placed).toBeGreaterThan(5);

    // Accept latency: every order has one, after its start (an HTTP round trip and an append:
    // never the start itself) and no later than its outcome; the append is acknowledged
    // before the processors and the projection are done, so accept p50 < end-to-end p50.
    expect(timings).toHaveLength(placed);
    expect(timings.filter(({ startedAt, acceptedAt, settledAt }) => !(acceptedAt !== undefined && startedAt < acceptedAt && acceptedAt <= settledAt))).toEqual([]);
    expect(latency.count).toBe(placed);
    expect(acceptLatency?.count).toBe(placed);
    expect(acceptLatency?.p50).toBeLessThan(latency.p50);

    expect(isProjectionStatsReporter(running)).toBe(true);
    const stats = (await running.projectionStats());
    expect(stats.eventStore).toBe(eventStore === 'memory' ? 'memory' : 'postgres');
    expect(stats.orders).toBe(placed);
    expect(stats.projectionLagMs.count).toBeGreaterThanOrEqual(placed * 3);
    expect(stats.processorRestarts).toEqual({ payments: 0, inventory: 0, notifications: 0 });
    expect(stats.conflictRetriesExhausted).toBe(0);
    expect((await running.wireStats()).bytes).toBeGreaterThan(0);

    // The query side over HTTP: a row of the read model, and 404 for an unknown order.
    const { host, port } = routed.get('es:read-model') ?? { host: '', port: 0 };
    const first = (await running.readModelRows())[0];
    const found = await request(`http://${host}:${port}/orders/${encodeURIComponent(first?.orderId ?? '')}`);
    expect(found.statusCode).toBe(200);
    expect(await found.body.json()).toEqual(first);
    const missing = await request(`http://${host}:${port}/orders/nope`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();

    // Accept before the workflow, whatever the machine's speed: with the payments processor
    // down, no order can end before it is back (`backAt`, the earliest), but each is accepted
    // at its append; and with the command side's answers delayed by COMMAND_DELAY_MS, no
    // accept comes sooner than that after its start (less 1 ms: the fault proxy releases
    // what is due within its timer's 1 ms granularity).
    const downAt = performance.now();
    await running.crash('payments', PAYMENTS_DOWN_MS);
    const backAt = downAt + PAYMENTS_DOWN_MS;
    faults.addFault('es:orders', { type: 'latency', latencyMs: COMMAND_DELAY_MS, direction: 'downstream' });
    await Promise.all(Array.from({ length: 20 }, () => target.placeOrder(started.generator.next())));
    const whileDown = timings.slice(placed);
    expect(whileDown).toHaveLength(20);
    expect(whileDown.filter((t) => t.settledAt < backAt)).toEqual([]);
    expect(whileDown.filter((t) => !(t.acceptedAt !== undefined && t.acceptedAt - t.startedAt >= COMMAND_DELAY_MS - 1 && t.acceptedAt < backAt))).toEqual([]);
  });
});
