import type { CompletedRun, ResultsDocument } from '../../bench/results.js';
import type { ChartSpec } from './render.js';

/** One slice of one pattern's timeline. */
export interface TimelineSlice {
  readonly pattern: string;
  /** Start of the slice, ms after the window opened. */
  readonly atMs: number;
  readonly completed: number;
  readonly failed: number;
  /** p99 of the orders started in the slice, ms; null when none started or the file predates it. */
  readonly p99Ms: number | null;
}

/** A fault scenario's timeline chart: every pattern's first completed trial on one time axis. */
export interface TimelineChartData {
  readonly scenario: string;
  readonly title: string;
  readonly bucketMs: number;
  /** The measurement window, ms (the longest of the runs drawn). */
  readonly durationMs: number;
  /** Each pattern's fault window, ms after the window opened (patterns whose fault never started are absent). */
  readonly windows: readonly { readonly pattern: string; readonly fromMs: number; readonly toMs: number }[];
  readonly slices: readonly TimelineSlice[];
}

/**
 * One chart per fault scenario (a scenario whose runs carry failure figures), in the
 * order they ran. Each pattern's first completed trial is drawn: trials are separate
 * timelines whose slices need not line up, so they are not averaged.
 */
export function timelineData(doc: ResultsDocument): TimelineChartData[] {
  const byScenario = new Map<string, CompletedRun[]>();
  for (const run of doc.runs) {
    if (run.state !== 'completed' || !run.failure || run.timeline.length === 0) continue;
    const runs = byScenario.get(run.scenario) ?? [];
    if (!runs.some((r) => r.pattern === run.pattern)) runs.push(run);
    byScenario.set(run.scenario, runs);
  }
  return [...byScenario].map(([scenario, runs]) => ({
    scenario,
    title: doc.scenarios?.find((s) => s.id === scenario)?.title ?? scenario,
    bucketMs: runs[0]?.timelineBucketMs ?? 0,
    durationMs: Math.max(...runs.map((r) => r.durationMs)),
    windows: runs.flatMap((r) => {
      const w = r.failure?.faultWindowMs;
      return w ? [{ pattern: r.pattern, fromMs: w.fromMs, toMs: w.toMs }] : [];
    }),
    slices: runs.flatMap((r) => r.timeline.map((p) => ({ pattern: r.pattern, atMs: p.atMs, completed: p.completed, failed: p.failed, p99Ms: p.p99Ms ?? null }))),
  }));
}

/**
 * One row per pattern (a room compares shapes, not seven tangled lines): completed orders
 * per slice as a green area, failed as red bars, the fault window shaded; below it, every
 * pattern's p99 per slice on one log axis, the same time axis.
 */
export function timelineSpec(data: TimelineChartData): ChartSpec {
  const patterns = [...new Set(data.slices.map((s) => s.pattern))];
  const seconds = { field: 'atS', type: 'quantitative', title: 'seconds into the window', scale: { domain: [0, data.durationMs / 1000] } } as const;
  const slices = data.slices.map((s) => ({ ...s, atS: s.atMs / 1000, endS: (s.atMs + data.bucketMs) / 1000 }));
  const windows = data.windows.map((w) => ({ ...w, fromS: w.fromMs / 1000, toS: w.toMs / 1000 }));
  const shade = { mark: { type: 'rect', color: '#f2b8b5', opacity: 0.45 }, encoding: { x: { field: 'fromS', type: 'quantitative' }, x2: { field: 'toS' } } } as const;
  const counts = slices.flatMap((s) => [
    { pattern: s.pattern, atS: s.atS, endS: s.endS, kind: 'completed', orders: s.completed },
    { pattern: s.pattern, atS: s.atS, endS: s.endS, kind: 'failed', orders: s.failed },
  ]);
  const kind = { field: 'kind', type: 'nominal', title: null, scale: { domain: ['completed', 'failed'], range: ['#59a14f', '#e15759'] } } as const;
  // Each row's window is that pattern's own; the rows share the time axis, labelled once under the p99 panel.
  const rows = patterns.map((pattern, i) => ({
    title: { text: pattern, fontSize: 13 },
    width: 640,
    height: 60,
    layer: [
      { data: { values: windows.filter((w) => w.pattern === pattern) }, ...shade },
      {
        data: { values: counts.filter((c) => c.pattern === pattern) },
        mark: { type: 'rect', tooltip: true },
        encoding: {
          x: { ...seconds, axis: { labels: false, title: null, ticks: false } },
          x2: { field: 'endS' },
          y: { field: 'orders', type: 'quantitative', title: null, stack: 'zero', axis: { tickCount: 2 } },
          // One legend for the rows: the first row's.
          color: i === 0 ? kind : { ...kind, legend: null },
          order: { field: 'kind', sort: 'ascending' },
        },
      },
    ],
  }));
  const p99 = {
    title: { text: 'p99 per slice, ms (log)', fontSize: 13 },
    width: 640,
    height: 180,
    layer: [
      { data: { values: windows.slice(0, 1) }, ...shade },
      {
        data: { values: slices.filter((s) => s.p99Ms !== null && s.p99Ms > 0) },
        mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
        encoding: {
          x: seconds,
          y: { field: 'p99Ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } },
          color: { field: 'pattern', type: 'nominal', sort: patterns, title: 'pattern' },
        },
      },
    ],
  } as const;
  return {
    title: { text: `Timeline: ${data.title}`, subtitle: `orders per ${data.bucketMs} ms slice, completed and failed, per pattern; shaded: the fault window` },
    vconcat: [...rows, p99],
    spacing: 10,
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}
