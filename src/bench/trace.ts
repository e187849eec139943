import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describeError } from '../errors.js';
import { DIRECT_NETWORK, isDrainable, type Pattern, type RunningPattern } from '../patterns/types.js';
import { seededRandom, type Random } from '../random.js';
import { withRootSpan } from '../tracing/index.js';
import { mergeWorlds, OrderGenerator } from '../workflow/generator.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';

/** The kinds of order `trace` can place: paid and reserved, refused by payments, or short of stock (which refunds). */
export const TRACE_OUTCOMES = ['confirmed', 'declined', 'out-of-stock'] as const;
export type TraceOutcome = (typeof TRACE_OUTCOMES)[number];

/** By default one order that goes through and one that is compensated (out of stock: the charge is refunded). */
export const DEFAULT_TRACE_OUTCOMES: readonly TraceOutcome[] = ['confirmed', 'out-of-stock'];

/** Where `trace` runs the services: all on this thread, so every span is recorded by this process's exporter. */
export const TRACE_PLACEMENT = 'same-thread';

/** How long an order and the drain after it may take, ms. */
const ORDER_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 5_000;
/** The spans are complete once no new one has ended for this long after the drain, ms. */
const QUIET_MS = 50;

/** One span of a journey, as data. Times are ms from the order's start (its root span). */
export interface JourneySpan {
  readonly name: string;
  readonly service: string;
  readonly operation: string;
  readonly message?: string;
  readonly bytes?: number;
  readonly traceId: string;
  readonly spanId: string;
  /** The span this one is a child of (in this trace), undefined for the root. */
  readonly parentSpanId?: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** One traced order: what was asked for, how it ended, and its spans in start order. */
export type Journey = {
  readonly pattern: string;
  readonly outcome: TraceOutcome;
  readonly orderId: string;
  readonly traceId: string;
  readonly spans: readonly JourneySpan[];
} & ({ readonly state: 'completed'; readonly result: OrderOutcome } | { readonly state: 'errored'; readonly error: { code: string; message: string } });

export interface TraceOptions {
  readonly patterns: readonly Pattern[];
  readonly outcomes: readonly TraceOutcome[];
  /** Seed of the orders and the patterns' random streams. */
  readonly seed: number;
  /** Called as each pattern starts (progress on stderr). */
  readonly onPattern?: (pattern: string) => void;
}

/** An order generator whose every order has `outcome`, on SKUs and customers of its own. */
function generatorFor(outcome: TraceOutcome, random: Random): OrderGenerator {
  const options =
    outcome === 'confirmed'
      ? { outOfStockShare: 0, declineShare: 0 }
      : outcome === 'declined'
        ? { outOfStockShare: 0, declineShare: 1 }
        : // No stock at all on the scarce SKUs: the reservation fails and the charge is refunded.
          { outOfStockShare: 1, declineShare: 0, scarceStock: 0 };
  return new OrderGenerator(random, options, `trace-${outcome}`, outcome);
}

/**
 * Place one order of each `outcome` in each pattern, traced: a tracer provider with an
 * in-memory exporter and an AsyncLocalStorage context manager is registered for the
 * duration, every pattern runs with placement `same-thread` (every span is produced in this
 * process), and each order's spans are read once it is terminal and the system drained.
 * Everything registered is unregistered and every pattern stopped before this resolves.
 */
export async function traceJourneys(options: TraceOptions): Promise<Journey[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  try {
    const journeys: Journey[] = [];
    for (const pattern of options.patterns) {
      options.onPattern?.(pattern.id);
      journeys.push(...(await tracePattern(pattern, options, exporter)));
    }
    return journeys;
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
  }
}

async function tracePattern(pattern: Pattern, options: TraceOptions, exporter: InMemorySpanExporter): Promise<Journey[]> {
  const random = seededRandom(options.seed);
  const generators = new Map(options.outcomes.map((o) => [o, generatorFor(o, random.fork())] as const));
  const world = [...generators.values()].map((g) => g.world()).reduce(mergeWorlds);
  const running = await pattern.start({
    world,
    random: random.fork(),
    options: { broker: 'embedded', eventStore: 'memory', placement: TRACE_PLACEMENT },
    network: DIRECT_NETWORK,
  });
  try {
    const journeys: Journey[] = [];
    for (const [outcome, generator] of generators) journeys.push(await traceOrder(pattern.id, outcome, generator.next(), running, exporter));
    return journeys;
  } finally {
    await running.stop();
  }
}

async function traceOrder(pattern: string, outcome: TraceOutcome, order: OrderRequest, running: RunningPattern, exporter: InMemorySpanExporter): Promise<Journey> {
  exporter.reset();
  let traceId = '';
  let placed: { state: 'completed'; result: OrderOutcome } | { state: 'errored'; error: { code: string; message: string } };
  try {
    const result = await withRootSpan(`client: place ${order.orderId}`, { service: 'client', operation: 'place order' }, () => {
      traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      return withTimeout(running.placeOrder(order), ORDER_TIMEOUT_MS, order.orderId);
    });
    placed = { state: 'completed', result };
  } catch (err) {
    placed = { state: 'errored', error: describeError(err) };
  }
  if (isDrainable(running)) await running.drain(DRAIN_TIMEOUT_MS);
  await quiet(exporter);
  const spans = journeySpans(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId));
  return { pattern, outcome, orderId: order.orderId, traceId, spans, ...placed };
}

function withTimeout<T>(work: Promise<T>, ms: number, orderId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`order ${orderId} was not terminal within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Wait until no span has ended for QUIET_MS (best-effort work after the outcome: notifications). */
async function quiet(exporter: InMemorySpanExporter): Promise<void> {
  let seen = -1;
  for (let i = 0; i < 40 && exporter.getFinishedSpans().length !== seen; i++) {
    seen = exporter.getFinishedSpans().length;
    await sleep(QUIET_MS);
  }
}

/** The spans as data, in start order, with times from the earliest (the root). */
export function journeySpans(spans: readonly ReadableSpan[]): JourneySpan[] {
  const sorted = [...spans].sort((a, b) => hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime));
  const origin = sorted[0] ? hrTimeToMilliseconds(sorted[0].startTime) : 0;
  return sorted.map((s) => {
    const attrs = s.attributes;
    const parent = s.parentSpanContext?.spanId;
    const out: JourneySpan = {
      name: s.name,
      service: String(attrs['service'] ?? 'unknown'),
      operation: String(attrs['operation'] ?? s.name),
      ...(attrs['message'] !== undefined ? { message: String(attrs['message']) } : {}),
      ...(typeof attrs['bytes'] === 'number' ? { bytes: attrs['bytes'] } : {}),
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      ...(parent !== undefined ? { parentSpanId: parent } : {}),
      startMs: round(hrTimeToMilliseconds(s.startTime) - origin),
      durationMs: round(hrTimeToMilliseconds(s.duration)),
      ...(s.status.code === 2 ? { error: s.status.message ?? 'error' } : {}),
    };
    return out;
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
