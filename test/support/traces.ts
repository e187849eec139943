import type { ResultsDocument, TracedJourney, TracedSpan, TraceOverhead, TracesSection } from '../../src/bench/results.js';

/** A hop of a journey: the service that sends, the one that handles it, the operation and the message. */
export type Hop = readonly [from: string, to: string, operation: string, message?: string];

/**
 * A traced order of `pattern`: a client root span, then one span per hop, each a child of
 * the newest span of its sender, 0.5 ms apart.
 */
export function tracedJourney(pattern: string, outcome: string, hops: readonly Hop[], overrides: Partial<TracedJourney> = {}): TracedJourney {
  const traceId = `${pattern}-${outcome}-trace`;
  const span = (i: number, service: string, operation: string, parentSpanId?: string, message?: string): TracedSpan => ({
    name: `${service} ${operation}`,
    service,
    operation,
    ...(message === undefined ? {} : { message }),
    traceId,
    spanId: `${pattern}-${outcome}-${i}`,
    ...(parentSpanId === undefined ? {} : { parentSpanId }),
    startMs: i * 0.5,
    durationMs: 0.4,
  });
  const spans: TracedSpan[] = [span(0, 'client', 'place order')];
  hops.forEach(([from, to, operation, message], i) => {
    const parent = [...spans].reverse().find((s) => s.service === from);
    spans.push(span(i + 1, to, operation, parent?.spanId, message));
  });
  const compensated = outcome === 'out-of-stock';
  return {
    pattern,
    outcome,
    orderId: `${pattern}-${outcome}-order`,
    traceId,
    placement: 'shared',
    spans,
    state: 'completed',
    result: compensated ? { status: 'CANCELLED', reason: 'out_of_stock' } : { status: 'CONFIRMED' },
    ...overrides,
  };
}

/** rest's orchestrated calls: confirmed (charge, reserve, notify) and compensated (charge, reserve refused, refund). */
export const REST_CONFIRMED: readonly Hop[] = [
  ['client', 'orders', 'POST /orders'],
  ['orders', 'payments', 'POST /charges'],
  ['orders', 'inventory', 'POST /reservations'],
  ['orders', 'notifications', 'POST /notifications'],
];
export const REST_COMPENSATED: readonly Hop[] = [
  ['client', 'orders', 'POST /orders'],
  ['orders', 'payments', 'POST /charges'],
  ['orders', 'inventory', 'POST /reservations'],
  ['orders', 'payments', 'POST /refunds'],
];

/** The queue through the broker: commands and events published and consumed. */
export const QUEUE_CONFIRMED: readonly Hop[] = [
  ['client', 'broker', 'publish', 'command.place-order'],
  ['broker', 'orders', 'consume', 'command.place-order'],
  ['orders', 'broker', 'publish', 'payment.charge'],
  ['broker', 'payments', 'consume', 'payment.charge'],
  ['payments', 'broker', 'publish', 'stock.reserve'],
  ['broker', 'inventory', 'consume', 'stock.reserve'],
  ['inventory', 'broker', 'publish', 'order.confirmed'],
  ['broker', 'client', 'consume', 'order.confirmed'],
];
export const QUEUE_COMPENSATED: readonly Hop[] = [
  ['client', 'broker', 'publish', 'command.place-order'],
  ['broker', 'orders', 'consume', 'command.place-order'],
  ['orders', 'broker', 'publish', 'payment.charge'],
  ['broker', 'payments', 'consume', 'payment.charge'],
  ['payments', 'broker', 'publish', 'stock.reserve'],
  ['broker', 'inventory', 'consume', 'stock.reserve'],
  ['inventory', 'broker', 'publish', 'stock.rejected'],
  ['broker', 'payments', 'consume', 'stock.rejected'],
  ['broker', 'client', 'consume', 'order.cancelled'],
];

/** A measured run's tracing cost. */
export function traceOverhead(overrides: Partial<TraceOverhead> = {}): TraceOverhead {
  return { pattern: 'rest', scenario: 'baseline', trial: 1, tracedOrders: 300, spans: 1500, traced: { p50: 2.2, p99: 9 }, untraced: { p50: 2, p99: 8 }, ...overrides };
}

/** rest's and the queue's confirmed and compensated journeys, nothing sampled, no OTLP. */
export function tracesSection(overrides: Partial<TracesSection> = {}): TracesSection {
  return {
    sample: 0,
    journeys: [
      tracedJourney('rest', 'confirmed', REST_CONFIRMED),
      tracedJourney('rest', 'out-of-stock', REST_COMPENSATED),
      tracedJourney('queue', 'confirmed', QUEUE_CONFIRMED),
      tracedJourney('queue', 'out-of-stock', QUEUE_COMPENSATED),
    ],
    overhead: [],
    otlp: null,
    ...overrides,
  };
}

/** `doc` with `traces`. */
export function withTraces(doc: ResultsDocument, traces: TracesSection = tracesSection()): ResultsDocument {
  return { ...doc, traces };
}
