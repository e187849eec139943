import * as hdr from 'hdr-histogram-js';
import type { CompletedRun, ResultsDocument } from '../../bench/results.js';
import { atLeast, type LatencySummary } from '../../metrics/histogram.js';
import { summarize } from '../summary.js';
import type { ChartSpec } from './render.js';

/** The percentiles drawn from a histogram (100 is the exact maximum). */
export const SPECTRUM_PERCENTILES = [50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100] as const;

/** atLeast() reads only the counts. */
const NO_FIGURES: LatencySummary = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };

/** Where the maximum sits on the x axis: one decade past 99.99, labelled "max". */
const MAX_X = 100_000;

/** One point of a latency spectrum. */
export interface SpectrumPoint {
  readonly pattern: string;
  readonly scenario: string;
  /** Percentile 0..100; 100 is the maximum. */
  readonly q: number;
  /** 1/(1−q), the x position (log scale): 2 at p50, 100 at p99, 10,000 at p99.99. */
  readonly x: number;
  /** ms. */
  readonly ms: number;
  /** The value falls among timed-out orders, recorded at their deadline: a lower bound. */
  readonly atLeast: boolean;
  /** From the merged histograms, or (a trial without one) the summary's few percentiles. */
  readonly source: 'histogram' | 'summary';
}

/** x of percentile q: 1/(1 − q/100), rounded so the ticks land on whole numbers. */
export function spectrumX(q: number): number {
  return q >= 100 ? MAX_X : Math.round((100 / (100 - q)) * 1000) / 1000;
}

/**
 * Each pattern × scenario's latency spectrum: its completed trials' histograms merged
 * (HdrHistogram's values, clamped to the exact maximum, rounded to the µs as
 * mergeLatency rounds), at SPECTRUM_PERCENTILES. When any trial has no histogram (older
 * files), the summary's p50, p90, p99, p99.9 and max instead.
 */
export function spectrumData(doc: ResultsDocument): SpectrumPoint[] {
  const groups = new Map<string, CompletedRun[]>();
  for (const run of doc.runs) {
    if (run.state !== 'completed' || run.latencyMs.count === 0) continue;
    const key = `${run.scenario}\u0000${run.pattern}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows = summarize(doc);
  const points: SpectrumPoint[] = [];
  for (const runs of groups.values()) {
    const first = runs[0];
    if (!first) continue;
    const { pattern, scenario } = first;
    const bounds = { count: runs.reduce((n, r) => n + r.latencyMs.count, 0), lowerBounds: runs.reduce((n, r) => n + (r.latencyMs.lowerBounds ?? 0), 0) };
    const point = (q: number, ms: number, source: SpectrumPoint['source']): SpectrumPoint => ({
      pattern,
      scenario,
      q,
      x: spectrumX(q),
      ms,
      atLeast: atLeast({ ...NO_FIGURES, ...bounds }, q),
      source,
    });
    const histograms = runs.flatMap((r) => (r.latencyHistogram === undefined ? [] : [r.latencyHistogram]));
    if (histograms.length === runs.length) {
      const maxMs = Math.max(...runs.map((r) => r.latencyMs.max));
      const values = mergedPercentiles(histograms, maxMs);
      SPECTRUM_PERCENTILES.forEach((q, i) => points.push(point(q, values[i] ?? maxMs, 'histogram')));
    } else {
      const s = rows.find((r) => r.pattern === pattern && r.scenario === scenario)?.latencyMs;
      if (!s) continue;
      for (const [q, ms] of [[50, s.p50], [90, s.p90], [99, s.p99], [99.9, s.p999], [100, s.max]] as const) points.push(point(q, ms, 'summary'));
    }
  }
  return points;
}

/** SPECTRUM_PERCENTILES of the merged histograms, ms, each at most `maxMs` (100: `maxMs` itself). */
function mergedPercentiles(histograms: readonly string[], maxMs: number): number[] {
  // The same histogram as LatencyHistogram's: µs, 3 significant digits, 32-bit counts, no WebAssembly.
  const merged = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true, bitBucketSize: 32, useWebAssembly: false });
  try {
    for (const h of histograms) {
      const decoded = hdr.decodeFromCompressedBase64(h, 32, false);
      try {
        merged.add(decoded);
      } finally {
        decoded.destroy();
      }
    }
    const maxUs = Math.round(maxMs * 1000);
    return SPECTRUM_PERCENTILES.map((q) => (q >= 100 ? maxMs : Math.round(Math.min(merged.getValueAtPercentile(q), maxUs)) / 1000));
  } finally {
    merged.destroy();
  }
}

const TICKS: readonly (readonly [number, string])[] = [
  [2, '50'],
  [10, '90'],
  [100, '99'],
  [1000, '99.9'],
  [10_000, '99.99'],
  [MAX_X, 'max'],
];

/** HdrHistogram's percentile plot: one line per pattern, a panel per scenario when there are several. */
export function spectrumSpec(points: readonly SpectrumPoint[]): ChartSpec {
  const scenarios = [...new Set(points.map((p) => p.scenario))];
  const labelExpr = TICKS.map(([v, label]) => `datum.value == ${v} ? '${label}' : `).join('') + "''";
  const unit = {
    // A log axis has no 0 (an older file's empty percentile).
    transform: [{ filter: 'datum.ms > 0' }] as { filter: string }[],
    mark: { type: 'line', point: true, tooltip: true, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'percentile',
        scale: { type: 'log', domain: [2, MAX_X] as number[] },
        axis: { values: TICKS.map(([v]) => v) as number[], labelExpr, grid: true },
      },
      y: { field: 'ms', type: 'quantitative', title: 'latency, ms (log)', scale: { type: 'log' } },
      color: { field: 'pattern', type: 'nominal', sort: null, title: 'pattern' },
      detail: { field: 'scenario' },
    },
  } as const;
  const title = { text: 'Latency by percentile', subtitle: 'every order started in the window, trials merged; x: 1/(1−q), log' };
  const values = points.map((p) => ({ ...p }));
  if (scenarios.length <= 1) return { title, width: 560, height: 320, data: { values }, ...unit };
  return {
    title,
    data: { values },
    facet: { field: 'scenario', type: 'nominal', sort: scenarios, title: null },
    columns: 2,
    spec: { width: 420, height: 300, ...unit },
  };
}
