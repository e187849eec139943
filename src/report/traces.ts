/**
 * The traces section of a results document as report pieces: the line that says where the
 * journeys were traced, one sequence diagram per pattern, the tracing-cost table and the
 * OTLP line. Strings and rows only; markdown.ts and html.ts lay them out. Structural types
 * (the shape of results.json's `traces`): reports do not import the bench.
 */
import { fmtInt, fmtMs, fmtNum, fmtPercent, fmtSignedPercent } from './format.js';
import { patternsOf, renderPatternMermaid, type JourneyView } from './journey.js';

/** `TraceOverhead`: one measured run's traced orders against its untraced ones. */
export interface TraceOverheadView {
  readonly pattern: string;
  readonly scenario: string;
  readonly trial: number;
  readonly tracedOrders: number;
  readonly spans: number;
  /** ms; null when that side had no order. */
  readonly traced: { readonly p50: number; readonly p99: number } | null;
  readonly untraced: { readonly p50: number; readonly p99: number } | null;
}

/** `TracesSection`. */
export interface TracesView {
  /** Share of measured orders traced, 0–1. */
  readonly sample: number;
  readonly journeys: readonly JourneyView[];
  readonly overhead: readonly TraceOverheadView[];
  readonly otlp: { readonly url: string; readonly exported: number; readonly failed: number; readonly error?: string } | null;
}

/** One pattern's diagram: its id and the Mermaid source (no fence). */
export interface JourneyDiagram {
  readonly pattern: string;
  readonly source: string;
}

/** A diagram per pattern with journeys, in the order the journeys came. */
export function journeyDiagrams(traces: TracesView): JourneyDiagram[] {
  return patternsOf(traces.journeys).map((pattern) => ({ pattern, source: renderPatternMermaid(pattern, traces.journeys) }));
}

/** Where and when the journeys were traced; null when there are none. */
export function journeysNote(traces: TracesView): string | null {
  if (traces.journeys.length === 0) return null;
  const placements = [...new Set(traces.journeys.map((j) => j.placement ?? 'unknown'))];
  return `Traced on the system under test before the measured phases (their latency is in no table), under placement ${placements.join(', ')}.`;
}

/** Traced p50 against untraced p50, in % of untraced; null when a side is missing or untraced is 0. */
export function p50Change(o: TraceOverheadView): number | null {
  if (!o.traced || !o.untraced || o.untraced.p50 === 0) return null;
  return ((o.traced.p50 - o.untraced.p50) / o.untraced.p50) * 100;
}

/** A share below 1% keeps two decimals (a 0.1% sample is not 0%). */
const shareText = (share: number) => (share > 0 && share < 0.01 ? `${fmtNum(share * 100, 2)}%` : fmtPercent(share));

const pair = (traced: number | undefined, untraced: number | undefined) => `${fmtMs(traced)} / ${fmtMs(untraced)}`;

export const TRACING_COST_HEADER = ['pattern', 'scenario', 'trial', 'sampled', 'traced orders', 'spans', 'p50 ms traced / untraced', 'p99 ms traced / untraced', 'p50 change'] as const;

/** Which columns of the tracing-cost table hold numbers (right-aligned). */
export const TRACING_COST_NUMERIC: readonly boolean[] = TRACING_COST_HEADER.map((_, i) => i >= 2);

/** The tracing-cost table's rows, one per measured run, as text (TRACING_COST_HEADER's columns). */
export function tracingCostRows(traces: TracesView): string[][] {
  return traces.overhead.map((o) => [
    o.pattern,
    o.scenario,
    String(o.trial),
    shareText(traces.sample),
    fmtInt(o.tracedOrders),
    fmtInt(o.spans),
    pair(o.traced?.p50, o.untraced?.p50),
    pair(o.traced?.p99, o.untraced?.p99),
    fmtSignedPercent(p50Change(o)),
  ]);
}

/** Where the spans went over OTLP and how many arrived; null without --otlp. */
export function otlpLine(traces: TracesView): string | null {
  const o = traces.otlp;
  if (!o) return null;
  const failed = o.failed > 0 ? `, ${fmtInt(o.failed)} failed` : '';
  const error = o.error ? `; delivery failed: ${o.error}` : '';
  return `Spans sent over OTLP to ${o.url}: ${fmtInt(o.exported)} exported${failed}${error}.`;
}
