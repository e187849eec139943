import type { SummaryRow } from '../summary.js';
import type { ChartSpec } from './render.js';

/** One bar segment of the cost chart: a pattern's figure per order (median of its trials). */
export interface CostBar {
  readonly pattern: string;
  readonly panel: 'cpu' | 'bytes' | 'messages';
  /** cpu: `system`, `generator`, or `process` when the two cannot be told apart (same thread, no per-thread CPU); otherwise the panel's name. */
  readonly part: string;
  /** µs of CPU, bytes or messages, per order. */
  readonly value: number;
}

/**
 * Cost per order of each pattern in `scenario` (the run's first scenario by default):
 * CPU split into system and generator when both are known, else the whole process; bytes
 * and messages on the wire. Figures that are null (no wire, no order) are left out.
 */
export function costData(rows: readonly SummaryRow[], scenario = rows[0]?.scenario): CostBar[] {
  return rows
    .filter((r) => r.scenario === scenario)
    .flatMap((r) => {
      const bars: CostBar[] = [];
      const add = (panel: CostBar['panel'], part: string, value: number | null) => {
        if (value !== null && Number.isFinite(value)) bars.push({ pattern: r.pattern, panel, part, value });
      };
      if (r.systemCpuMicrosPerOrder !== null && r.generatorCpuMicrosPerOrder !== null) {
        add('cpu', 'system', r.systemCpuMicrosPerOrder);
        add('cpu', 'generator', r.generatorCpuMicrosPerOrder);
      } else add('cpu', 'process', r.cpuMicrosPerOrder);
      add('bytes', 'bytes', r.bytesPerOrder);
      add('messages', 'messages', r.messagesPerOrder);
      return bars;
    });
}

const PANELS = [
  { panel: 'cpu', title: 'CPU per order, µs' },
  { panel: 'bytes', title: 'bytes on the wire per order' },
  { panel: 'messages', title: 'messages per order' },
] as const;

/** Three small panels side by side; CPU stacked system + generator. Panels without a figure are left out. */
export function costSpec(bars: readonly CostBar[], scenario: string): ChartSpec {
  const patterns = [...new Set(bars.map((b) => b.pattern))];
  const panels = PANELS.filter((p) => bars.some((b) => b.panel === p.panel)).map((p) => ({
    title: { text: p.title, fontSize: 13 },
    width: 230,
    height: 24 * patterns.length,
    data: { values: bars.filter((b) => b.panel === p.panel).map((b) => ({ ...b })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'pattern', type: 'nominal', sort: patterns, title: null },
      x: { field: 'value', type: 'quantitative', title: null, stack: 'zero' },
      color: p.panel === 'cpu' ? cpuColor(bars) : { value: p.panel === 'bytes' ? '#f58518' : '#54a24b' },
    },
  }));
  return {
    title: { text: 'Cost per order', subtitle: `${scenario}; medians of the trials` },
    hconcat: panels,
    spacing: 24,
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}

const CPU_PARTS = [
  ['system', '#4c78a8'],
  ['generator', '#9ecae9'],
  ['process', '#72b7b2'],
] as const;

/** The CPU panel's colours: only the parts present, the legend under the panel. */
function cpuColor(bars: readonly CostBar[]) {
  const parts = CPU_PARTS.filter(([part]) => bars.some((b) => b.panel === 'cpu' && b.part === part));
  return {
    field: 'part',
    type: 'nominal',
    title: null,
    scale: { domain: parts.map(([part]) => part), range: parts.map(([, colour]) => colour) },
    legend: { orient: 'bottom', direction: 'horizontal' },
  } as const;
}
