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

/** Each panel's width, px: the two panels of a row side by side fit a 1280 px page with the legend. */
export const TIMELINE_PANEL_WIDTH = 400;

type Window = TimelineChartData['windows'][number] & { readonly fromS: number; readonly toS: number };

/** The fault window, shaded over a panel's full height. Named so a test can find each panel's shade in the SVG. */
function shade(name: string, windows: readonly Window[]) {
  return {
    name,
    data: { values: windows },
    mark: { type: 'rect', color: '#f2b8b5', opacity: 0.45 },
    encoding: { x: { field: 'fromS', type: 'quantitative' }, x2: { field: 'toS' } },
  } as const;
}

/** The shared time axis: labelled on the last row only. */
function timeAxis(durationMs: number, labelled: boolean) {
  return {
    field: 'atS',
    type: 'quantitative',
    title: labelled ? 'seconds into the window' : null,
    scale: { domain: [0, durationMs / 1000] },
    axis: labelled ? {} : { labels: false, ticks: false },
  } as const;
}

/** One log domain for every pattern's p99 panel, so the rows compare; undefined when no slice has a p99. */
export function p99Domain(slices: readonly TimelineSlice[]): [number, number] | undefined {
  const values = slices.flatMap((s) => (s.p99Ms !== null && s.p99Ms > 0 ? [s.p99Ms] : []));
  if (values.length === 0) return undefined;
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? [low / 2, high * 2] : [low, high];
}

interface RowInput {
  readonly data: TimelineChartData;
  readonly pattern: string;
  readonly index: number;
  readonly last: boolean;
  readonly windows: readonly Window[];
  readonly domain: [number, number] | undefined;
}

const KIND = { field: 'kind', type: 'nominal', title: null, scale: { domain: ['completed', 'failed'], range: ['#59a14f', '#e15759'] } } as const;

/** A pattern's completed and failed orders per slice, stacked, over its own fault window. */
function countsPanel({ data, pattern, index, last, windows }: RowInput) {
  const values = data.slices
    .filter((s) => s.pattern === pattern)
    .flatMap((s) => {
      const at = { atS: s.atMs / 1000, endS: (s.atMs + data.bucketMs) / 1000 };
      return [{ ...at, kind: 'completed', orders: s.completed }, { ...at, kind: 'failed', orders: s.failed }];
    });
  return {
    width: TIMELINE_PANEL_WIDTH,
    height: 60,
    layer: [
      shade(`shade_counts_${index}`, windows),
      {
        data: { values },
        mark: { type: 'rect', tooltip: true },
        encoding: {
          x: timeAxis(data.durationMs, last),
          x2: { field: 'endS' },
          y: { field: 'orders', type: 'quantitative', title: 'orders', stack: 'zero', axis: { tickCount: 2 } },
          // One legend for the rows: the first row's.
          color: index === 0 ? KIND : { ...KIND, legend: null },
          order: { field: 'kind', sort: 'ascending' },
        },
      },
    ],
  };
}

/** A pattern's p99 per slice on the rows' shared log axis, over its own fault window. */
function p99Panel({ data, pattern, index, last, windows, domain }: RowInput) {
  const values = data.slices.filter((s) => s.pattern === pattern && s.p99Ms !== null && s.p99Ms > 0).map((s) => ({ atS: s.atMs / 1000, p99Ms: s.p99Ms }));
  return {
    width: TIMELINE_PANEL_WIDTH,
    height: 60,
    layer: [
      shade(`shade_p99_${index}`, windows),
      {
        data: { values },
        mark: { type: 'line', color: '#4e79a7', strokeWidth: 1.5, interpolate: 'step-after', tooltip: true },
        encoding: {
          x: timeAxis(data.durationMs, last),
          y: { field: 'p99Ms', type: 'quantitative', title: 'p99 ms', scale: { type: 'log', ...(domain ? { domain, nice: true } : {}) }, axis: { tickCount: 3 } },
        },
      },
    ],
  };
}

/**
 * One row per pattern (a room compares shapes, not seven tangled lines), each with its own
 * fault window shaded: on the left its completed orders per slice as green bars and failed
 * as red, on the right its p99 per slice, every row's p99 on one log axis; one time axis.
 */
export function timelineSpec(data: TimelineChartData): ChartSpec {
  const patterns = [...new Set(data.slices.map((s) => s.pattern))];
  const windows = data.windows.map((w) => ({ ...w, fromS: w.fromMs / 1000, toS: w.toMs / 1000 }));
  const domain = p99Domain(data.slices);
  const rows = patterns.map((pattern, index) => {
    const input: RowInput = { data, pattern, index, last: index === patterns.length - 1, windows: windows.filter((w) => w.pattern === pattern), domain };
    return { title: { text: pattern, fontSize: 13 }, hconcat: [countsPanel(input), p99Panel(input)], spacing: 16 };
  });
  return {
    // Short: in Node, vega sizes text by an estimate that makes a long subtitle wider than the panels.
    title: { text: `Timeline: ${data.title}`, subtitle: `each pattern's orders per ${data.bucketMs} ms slice, completed and failed, and p99 ms; shaded: its fault window` },
    vconcat: rows,
    spacing: 8,
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}
