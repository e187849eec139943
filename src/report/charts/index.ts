import type { ResultsDocument } from '../../bench/results.js';
import { summarize } from '../summary.js';
import { costData, costSpec } from './cost.js';
import { renderSvg, type ChartSpec } from './render.js';
import { spectrumData, spectrumSpec } from './spectrum.js';
import { sweepData, sweepSpec } from './sweep.js';
import { capacityData, capacitySpec, throughputData, throughputSpec } from './throughput.js';
import { timelineData, timelineSpec } from './timeline.js';

export { capacityData, capacitySpec, throughputData, throughputSpec, type CapacityBar, type ThroughputBar } from './throughput.js';
export { spectrumData, spectrumSpec, spectrumX, SPECTRUM_PERCENTILES, type SpectrumPoint } from './spectrum.js';
export { timelineData, timelineSpec, type TimelineChartData, type TimelineSlice } from './timeline.js';
export { sweepData, sweepSpec, type SweepPoint } from './sweep.js';
export { costData, costSpec, type CostBar } from './cost.js';
export { renderSvg, CHART_CONFIG, type ChartSpec } from './render.js';

/** One rendered chart. */
export interface Chart {
  /** File-name safe: `throughput`, `capacity`, `latency-spectrum`, `timeline-<scenario>`, `sweep`, `cost`. */
  readonly id: string;
  readonly title: string;
  /** A standalone SVG document. */
  readonly svg: string;
}

/** A chart before rendering. */
export interface ChartPlan {
  readonly id: string;
  readonly title: string;
  readonly spec: ChartSpec;
}

/** A scenario id as part of a file name. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-');

/**
 * The charts the document has data for, as specs, in report order. No chart for what it
 * lacks: no throughput without completed runs, no timeline without a fault scenario, no
 * sweep chart without a sweep.
 */
export function planCharts(doc: ResultsDocument): ChartPlan[] {
  const rows = summarize(doc);
  const plans: ChartPlan[] = [];
  const bars = throughputData(rows);
  if (bars.length > 0) plans.push({ id: 'throughput', title: 'Throughput per pattern and scenario', spec: throughputSpec(bars) });
  const capacity = capacityData(doc);
  if (capacity.bars.length > 0) plans.push({ id: 'capacity', title: 'Capacity per pattern', spec: capacitySpec(capacity) });
  const points = spectrumData(doc);
  if (points.length > 0) plans.push({ id: 'latency-spectrum', title: 'Latency by percentile', spec: spectrumSpec(points) });
  for (const t of timelineData(doc)) plans.push({ id: `timeline-${safe(t.scenario)}`, title: `Timeline: ${t.title}`, spec: timelineSpec(t) });
  const sweep = sweepData(doc);
  if (sweep && sweep.points.length > 0) plans.push({ id: 'sweep', title: 'Throughput against latency (sweep)', spec: sweepSpec(sweep) });
  const scenario = rows.some((r) => r.scenario === 'baseline') ? 'baseline' : rows[0]?.scenario;
  const cost = scenario === undefined ? [] : costData(rows, scenario);
  if (scenario !== undefined && cost.length > 0) plans.push({ id: 'cost', title: 'Cost per order', spec: costSpec(cost, scenario) });
  return plans;
}

/** Every chart of planCharts(), rendered to SVG by vega, headless and offline (one after another: each holds a view). */
export async function renderCharts(doc: ResultsDocument): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const plan of planCharts(doc)) charts.push({ id: plan.id, title: plan.title, svg: await renderSvg(plan.spec) });
  return charts;
}
