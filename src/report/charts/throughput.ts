import type { ResultsDocument } from '../../bench/results.js';
import { capacities } from '../observations.js';
import type { SummaryRow } from '../summary.js';
import type { ChartSpec } from './render.js';

/** One bar: a pattern × scenario's median orders/s over its trials, with the interval when there are ≥ 2. */
export interface ThroughputBar {
  readonly pattern: string;
  readonly scenario: string;
  /** orders/s, the median of the trials. */
  readonly achieved: number;
  /** The median's interval (the summary's low/high), orders/s; null with fewer than 2 trials. */
  readonly low: number | null;
  readonly high: number | null;
  readonly trials: number;
}

/** The bars of the throughput chart, in the summary's order; rows with no completed trial are left out. */
export function throughputData(rows: readonly SummaryRow[]): ThroughputBar[] {
  return rows.flatMap((r) => {
    const a = r.achieved;
    if (!a) return [];
    const ci = a.n >= 2;
    return [{ pattern: r.pattern, scenario: r.scenario, achieved: a.median, low: ci ? a.low : null, high: ci ? a.high : null, trials: a.n }];
  });
}

/** Grouped bars: one group per pattern, one bar per scenario, error bars where there is an interval. */
export function throughputSpec(bars: readonly ThroughputBar[]): ChartSpec {
  const x = { field: 'pattern', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30 } } as const;
  const xOffset = { field: 'scenario', type: 'nominal', sort: null } as const;
  return {
    title: { text: 'Throughput', subtitle: bars.some((b) => b.low !== null) ? 'median of the trials; whiskers: its confidence interval' : 'orders/s achieved' },
    width: 640,
    height: 300,
    data: { values: bars.map((b) => ({ ...b })) },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: { x, xOffset, y: { field: 'achieved', type: 'quantitative', title: 'orders/s' }, color: { field: 'scenario', type: 'nominal', sort: null, title: 'scenario' } },
      },
      {
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'rule', color: '#222', strokeWidth: 1.5 },
        encoding: { x, xOffset, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
    ],
  };
}

/** One pattern's closed-loop capacity (median over its trials), orders/s. */
export interface CapacityBar {
  readonly pattern: string;
  readonly capacity: number;
}

/** The capacity phase's bars, and the equal load every pattern then ran at (null without one). */
export function capacityData(doc: ResultsDocument): { readonly bars: CapacityBar[]; readonly rate: number | null } {
  const bars = capacities(doc.capacity).map((c) => ({ pattern: c.pattern, capacity: c.ordersPerSecond }));
  return { bars, rate: doc.equalLoad?.rate ?? null };
}

/** Each pattern's capacity as a bar, the equal load as a dashed line across them. */
export function capacitySpec(data: ReturnType<typeof capacityData>): ChartSpec {
  const x = { field: 'pattern', type: 'nominal', title: null, sort: null, axis: { labelAngle: -30 } } as const;
  return {
    title: { text: 'Capacity', subtitle: data.rate === null ? 'closed loop, orders/s' : `closed loop, orders/s; dashed: the equal load every pattern ran at (${Math.round(data.rate)} orders/s)` },
    width: 640,
    height: 260,
    layer: [
      {
        data: { values: data.bars.map((b) => ({ ...b })) },
        mark: { type: 'bar', color: '#4c78a8', tooltip: true },
        encoding: { x, y: { field: 'capacity', type: 'quantitative', title: 'orders/s' } },
      },
      ...(data.rate === null
        ? []
        : [
            {
              data: { values: [{ rate: data.rate }] },
              mark: { type: 'rule', color: '#e45756', strokeDash: [6, 4] as number[], strokeWidth: 2 },
              encoding: { y: { field: 'rate', type: 'quantitative' } },
            } as const,
          ]),
    ],
  };
}
