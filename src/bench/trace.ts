import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { describeError } from '../errors.js';
import { FaultNetwork } from '../faults/network.js';
import type { Scenario } from '../faults/scenarios/types.js';
import { ThreadPool } from '../placement/pool.js';
import { DIRECT_NETWORK, isDrainable, type Pattern, type RunningPattern } from '../patterns/types.js';
import { seededRandom } from '../random.js';
import { withRootSpan } from '../tracing/index.js';
import type { SpanRecord, TakenSpans } from '../tracing/recorder.js';
import { mergeWorlds } from '../workflow/generator.js';
import { generatorFor, type TraceOutcome } from './journey-orders.js';
import type { OrderRequest } from '../workflow/types.js';
import { faultWindow, needsFaultNetwork, ScenarioPlayer } from './player.js';
import type { TracedJourney, TracedSpan } from './results.js';

export { TRACE_OUTCOMES, type TraceOutcome } from './journey-orders.js';

/** By default one order that goes through and one that is compensated (out of stock: the charge is refunded). */
export const DEFAULT_TRACE_OUTCOMES: readonly TraceOutcome[] = ['confirmed', 'out-of-stock'];

/** Where `trace` runs the services: all on this thread, so the journey shows hops, not thread hand-offs. */
export const TRACE_PLACEMENT = 'same-thread';

/** How long an order and the drain after it may take, ms. */
const ORDER_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 5_000;
/** The spans are complete once no new one has ended for this long after the drain, ms. */
const QUIET_MS = 50;
/** `trace --scenario`: the scenario's steps are played over a window this long, and the order placed just inside its fault. ms. */
const SCENARIO_WINDOW_MS = 4_000;
const INTO_FAULT_MS = 20;

/** One traced order and the spans it produced, as recorded (for `--otlp`). */
export interface TracedOrder {
  readonly journey: TracedJourney;
  readonly records: readonly SpanRecord[];
}

/** Where an order's spans are read from: this thread's recorder, or every thread of a pool. */
export type SpanSource = () => Promise<TakenSpans>;

export interface TraceOptions {
  readonly patterns: readonly Pattern[];
  readonly outcomes: readonly TraceOutcome[];
  /** Seed of the orders and the patterns' random streams. */
  readonly seed: number;
  /** Play this scenario and place each order inside its fault. Default: none. */
  readonly scenario?: Scenario;
  /** Called as each pattern starts (progress on stderr). */
  readonly onPattern?: (pattern: string) => void;
}

/**
 * `pattern-bench trace`: one order of each `outcome` in each pattern, traced. Every pattern
 * runs with placement `same-thread` in a thread pool whose span recording is on for the
 * duration; everything is stopped and unregistered before this resolves.
 */
export async function traceJourneys(options: TraceOptions): Promise<TracedOrder[]> {
  const pool = new ThreadPool();
  await pool.tracing('start');
  try {
    const traced: TracedOrder[] = [];
    for (const pattern of options.patterns) {
      options.onPattern?.(pattern.id);
      traced.push(...(await tracePattern(pattern, options, pool)));
    }
    return traced;
  } finally {
    await pool.tracing('stop');
    await pool.close();
  }
}

async function tracePattern(pattern: Pattern, options: TraceOptions, pool: ThreadPool): Promise<TracedOrder[]> {
  const random = seededRandom(options.seed);
  const generators = new Map(options.outcomes.map((o) => [o, generatorFor(o, random.fork())] as const));
  const world = [...generators.values()].map((g) => g.world()).reduce(mergeWorlds);
  const network = options.scenario && needsFaultNetwork(options.scenario) ? new FaultNetwork(random.fork()) : null;
  const running = await pattern
    .start({ world, random: random.fork(), options: { broker: 'embedded', eventStore: 'memory', placement: TRACE_PLACEMENT }, network: network ?? DIRECT_NETWORK, threads: pool })
    .catch(async (err: unknown) => {
      await network?.close();
      throw err;
    });
  const source = () => pool.tracing('take');
  try {
    const traced: TracedOrder[] = [];
    for (const [outcome, generator] of generators) {
      const order = generator.next();
      traced.push(await (options.scenario ? underScenario(options.scenario, running, network, () => traceOrder(pattern.id, TRACE_PLACEMENT, order, running, source, outcome)) : traceOrder(pattern.id, TRACE_PLACEMENT, order, running, source, outcome)));
    }
    return traced;
  } finally {
    await running.stop();
    await network?.close();
  }
}

/** Play `scenario` and run `place` just inside its fault; every fault is removed before this resolves. */
async function underScenario<T>(scenario: Scenario, running: RunningPattern, network: FaultNetwork | null, place: () => Promise<T>): Promise<T> {
  const player = new ScenarioPlayer(scenario, running, network, 0, SCENARIO_WINDOW_MS);
  player.start();
  try {
    await sleep((faultWindow(scenario, SCENARIO_WINDOW_MS)?.fromMs ?? 0) + INTO_FAULT_MS);
    return await place();
  } finally {
    await player.stop();
  }
}

/** What kind of order an outcome shows: confirmed, declined (payment refused), out-of-stock, or the reason. */
export function outcomeKind(result: { readonly status: string; readonly reason?: string }): string {
  if (result.status === 'CONFIRMED') return 'confirmed';
  if (result.reason === 'payment_declined') return 'declined';
  if (result.reason === 'out_of_stock') return 'out-of-stock';
  return result.reason ?? result.status.toLowerCase();
}

/**
 * Place `order` under a root span and collect its spans once it is terminal and the system
 * drained (best-effort work such as notifications ends after the outcome). `outcome` names
 * what was asked for; without it, what the order turned out to be.
 */
export async function traceOrder(pattern: string, placement: string, order: OrderRequest, running: RunningPattern, source: SpanSource, outcome?: string): Promise<TracedOrder> {
  await source(); // discard: spans of earlier orders are not this one's
  let traceId = '';
  let placed: Pick<TracedJourney, 'state' | 'result' | 'error'>;
  try {
    const result = await withRootSpan(`client: place ${order.orderId}`, { service: 'client', operation: 'place order' }, () => {
      traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      return withTimeout(running.placeOrder(order), ORDER_TIMEOUT_MS, order.orderId);
    });
    placed = { state: 'completed', result: result.reason === undefined ? { status: result.status } : { status: result.status, reason: result.reason } };
  } catch (err) {
    placed = { state: 'errored', error: describeError(err) };
  }
  if (isDrainable(running)) await running.drain(DRAIN_TIMEOUT_MS);
  const records = (await quiet(source)).filter((s) => s.traceId === traceId);
  const kind = outcome ?? (placed.result ? outcomeKind(placed.result) : 'errored');
  return { journey: { pattern, outcome: kind, orderId: order.orderId, traceId, placement, spans: journeySpans(records), ...placed }, records };
}

function withTimeout<T>(work: Promise<T>, ms: number, orderId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`order ${orderId} was not terminal within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Take spans until none has ended for QUIET_MS; everything taken. */
async function quiet(source: SpanSource): Promise<SpanRecord[]> {
  const all: SpanRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const { spans } = await source();
    all.push(...spans);
    if (spans.length === 0 && i > 0) break;
    await sleep(QUIET_MS);
  }
  return all;
}

/** The spans as data, in start order, with times from the earliest (the root). */
export function journeySpans(spans: readonly SpanRecord[]): TracedSpan[] {
  const sorted = [...spans].sort((a, b) => hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime));
  const origin = sorted[0] ? hrTimeToMilliseconds(sorted[0].startTime) : 0;
  return sorted.map((s) => {
    const attrs = s.attributes;
    const out: TracedSpan = {
      name: s.name,
      service: String(attrs['service'] ?? 'unknown'),
      operation: String(attrs['operation'] ?? s.name),
      ...(attrs['message'] !== undefined ? { message: String(attrs['message']) } : {}),
      ...(typeof attrs['bytes'] === 'number' ? { bytes: attrs['bytes'] } : {}),
      traceId: s.traceId,
      spanId: s.spanId,
      ...(s.parentSpanId !== undefined ? { parentSpanId: s.parentSpanId } : {}),
      startMs: round(hrTimeToMilliseconds(s.startTime) - origin),
      durationMs: round(hrTimeToMilliseconds(s.endTime) - hrTimeToMilliseconds(s.startTime)),
      ...(s.status.code === 2 ? { error: s.status.message ?? 'error' } : {}),
    };
    return out;
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
