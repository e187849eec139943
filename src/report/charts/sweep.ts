import type { ResultsDocument } from '../../bench/results.js';
import { kneeStep } from '../sweep.js';
import type { ChartSpec } from './render.js';

/** One step of one pattern's sweep. */
export interface SweepPoint {
  readonly pattern: string;
  /** orders/s asked for. */
  readonly rate: number;
  /** orders/s achieved. */
  readonly achieved: number;
  readonly p99Ms: number;
  /** This step is the pattern's knee: the highest rate that kept up within the SLO. */
  readonly knee: boolean;
}

/** Every completed step of every curve, and the SLO; null when the document has no sweep. */
export function sweepData(doc: ResultsDocument): { readonly sloMs: number; readonly points: SweepPoint[] } | null {
  if (!doc.sweep) return null;
  const points = doc.sweep.curves.flatMap((c) => {
    const knee = kneeStep(c);
    return c.steps.map((s) => ({ pattern: c.pattern, rate: s.rate, achieved: s.achieved, p99Ms: s.latencyMs.p99, knee: s === knee }));
  });
  return { sloMs: doc.sweep.sloMs, points };
}

/** Throughput–latency curves: achieved orders/s against p99 (log), one line per pattern, the knees ringed, the SLO dashed. */
export function sweepSpec(data: NonNullable<ReturnType<typeof sweepData>>): ChartSpec {
  const x = { field: 'achieved', type: 'quantitative', title: 'orders/s achieved' } as const;
  const y = { field: 'p99Ms', type: 'quantitative', title: 'p99, ms (log)', scale: { type: 'log' } } as const;
  const color = { field: 'pattern', type: 'nominal', sort: null, title: 'pattern' } as const;
  // A log axis has no 0.
  const values = data.points.filter((p) => p.p99Ms > 0).map((p) => ({ ...p }));
  return {
    title: { text: 'Throughput against latency', subtitle: `each step of the sweep; ringed: the knee (highest rate within the ${data.sloMs} ms SLO that kept up); dashed: the SLO` },
    width: 600,
    height: 340,
    layer: [
      { data: { values }, mark: { type: 'line', point: true, tooltip: true, strokeWidth: 2 }, encoding: { x, y, color, order: { field: 'rate', type: 'quantitative' } } },
      {
        data: { values },
        transform: [{ filter: 'datum.knee' }],
        mark: { type: 'point', size: 260, strokeWidth: 2.5, filled: false },
        encoding: { x, y, color },
      },
      { data: { values: [{ slo: data.sloMs }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#888' }, encoding: { y: { field: 'slo', type: 'quantitative' } } },
    ],
  };
}
