import Table from 'cli-table3';
import { markdownTable } from 'markdown-table';
import type { ResultsDocument, SweepCurve, SweepResult, SweepStep } from '../bench/results.js';
import { KEEPS_UP } from '../bench/sweep-settings.js';
import { percentileText } from './columns.js';
import { definitionsLegend, definitionsMarkdown } from './definitions.js';
import { fmtInt, fmtMs, fmtPercent } from './format.js';
import { invariantVerdict } from './summary.js';
import { fitTable, TERMINAL_WIDTH, wrap, type TerminalOptions } from './terminal.js';

/** The terms the sweep tables use, for their legend. */
export const SWEEP_TERMS: readonly string[] = ['offered', 'achieved', 'latency', 'success', 'knee'];

const KNEE_MARK = '← knee';

/** An objective as written: `50`, not fmtMs's `50.0`. */
const slo = (ms: number) => (Number.isInteger(ms) ? fmtInt(ms) : fmtMs(ms));

/** A sweep's document: it has curves instead of runs, and the reports show the sweep. */
export function isSweepOnly(doc: ResultsDocument): boolean {
  return doc.sweep !== undefined && doc.runs.length === 0;
}

/** `Sweep: open loop, 1 s per step, rate ×1.5 per step from each pattern's closed-loop probe; SLO p99 ≤ 50 ms` */
export function sweepLine(sweep: SweepResult): string {
  return `Sweep: open loop, ${sweep.stepMs / 1000} s per step, rate ×${Number(sweep.factor.toFixed(2))} per step from each pattern's closed-loop probe; SLO p99 ≤ ${slo(sweep.sloMs)} ms`;
}

/** The step a curve's knee is: its rate is the knee (the step's rate asked for, or failing that what it offered). */
export function kneeStep(curve: SweepCurve): SweepStep | null {
  if (curve.knee === null) return null;
  return curve.steps.find((s) => s.rate === curve.knee) ?? curve.steps.find((s) => s.offered === curve.knee) ?? null;
}

/** Why a curve stopped, as the line under its table: `stopped: saturated: achieved fell below 95% of offered`. */
export function stoppedLine(curve: SweepCurve, sloMs: number): string {
  switch (curve.stoppedBy) {
    case 'saturated':
      return `stopped: saturated: achieved fell below ${fmtPercent(KEEPS_UP)} of the rate asked for`;
    case 'slo':
      return `stopped: slo: p99 went over ${slo(sloMs)} ms`;
    case 'steps':
      return 'stopped: steps: the step limit was reached';
    case 'time':
      return 'stopped: time: the time budget was spent';
    case 'error':
      return `stopped: error${curve.error ? `: ${curve.error.code}: ${curve.error.message}` : ''}`;
    case 'aborted':
      return 'stopped: aborted';
  }
}

const CURVE_HEAD = ['offered orders/s', 'achieved orders/s', 'p50 ms', 'p99 ms', 'success', ''] as const;
const CURVE_ALIGN = ['right', 'right', 'right', 'right', 'right', 'left'] as const;

/** One curve's rows: offered → achieved, p50, p99 (≥ where timed-out orders set it), success, and the knee marker on the knee's step. */
export function curveRows(curve: SweepCurve): string[][] {
  const knee = kneeStep(curve);
  return curve.steps.map((s) => [
    fmtInt(s.offered),
    fmtInt(s.achieved),
    percentileText(s.latencyMs, 50),
    percentileText(s.latencyMs, 99),
    fmtPercent(s.successRate),
    s === knee ? KNEE_MARK : '',
  ]);
}

/** `Capacity at SLO (p99 ≤ 50 ms)` */
export function sloTitle(sweep: SweepResult): string {
  return `Capacity at SLO (p99 ≤ ${slo(sweep.sloMs)} ms)`;
}

const SLO_HEAD = ['pattern', 'knee orders/s', 'p99 ms at knee', 'steps', 'invariants'] as const;
const SLO_ALIGN = ['left', 'right', 'right', 'right', 'left'] as const;

/** The capacity-at-SLO rows: each pattern's knee, its p99 and how many steps the sweep ran. */
export function sloRows(sweep: SweepResult): string[][] {
  return sweep.curves.map((c) => {
    const step = kneeStep(c);
    const knee = c.state === 'errored' && c.knee === null ? `errored: ${c.error?.code ?? 'unknown'}` : c.knee === null ? 'none: the first step missed' : fmtInt(c.knee);
    return [c.pattern, knee, percentileText(step?.latencyMs, 99), fmtInt(c.steps.length), invariantVerdict(c.invariants)];
  });
}

function curveCaption(curve: SweepCurve): string {
  return `${curve.pattern}${curve.probe === null ? '' : ` (probe ${fmtInt(curve.probe)} orders/s)`}`;
}

function textTable(head: readonly string[], align: readonly ('left' | 'right')[], rows: readonly string[][]): string {
  const table = new Table({ head: [...head], colAligns: [...align], style: { head: [], border: [] } });
  for (const row of rows) table.push(row);
  return table.toString();
}

function mdTable(head: readonly string[], align: readonly ('left' | 'right')[], rows: readonly string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return markdownTable([[...head], ...rows.map((r) => r.map(esc))], { align: align.map((a) => (a === 'right' ? 'r' : 'l')) });
}

/** What a curve table's columns mean, in one line under it. */
export const CURVE_LEGEND = 'offered → achieved orders/s per step · p50/p99 ms (≥: a lower bound) · success · ← knee';

/** What the capacity-at-SLO table's columns mean, in one line under it. */
export const SLO_LEGEND = 'knee: the highest offered rate within the SLO that kept up · p99 there · steps run · invariants';

/**
 * The sweep in the terminal: per pattern its curve (offered → achieved, p50, p99, success,
 * the knee marked) and why it stopped; then each pattern's capacity at the SLO; then the
 * legend. '' for a document without a sweep. Condensed to `options.width` (a legend line
 * under each table, long lines wrapped) unless `options.wide`, which prints it as before.
 */
export function renderSweepTables(doc: ResultsDocument, options: TerminalOptions = {}): string {
  const sweep = doc.sweep;
  if (!sweep) return '';
  if (!options.wide) return condensedSweep(sweep, options.width ?? TERMINAL_WIDTH);
  const out: string[] = [sweepLine(sweep)];
  for (const curve of sweep.curves) {
    out.push('', curveCaption(curve));
    if (curve.steps.length > 0) out.push(textTable(CURVE_HEAD, CURVE_ALIGN, curveRows(curve)));
    out.push(stoppedLine(curve, sweep.sloMs));
  }
  out.push('', sloTitle(sweep), textTable(SLO_HEAD, SLO_ALIGN, sloRows(sweep)), '', ...definitionsLegend(SWEEP_TERMS));
  return out.join('\n');
}

function condensedSweep(sweep: SweepResult, width: number): string {
  const lines = (text: string) => wrap(text, width);
  const out: string[] = [...lines(sweepLine(sweep))];
  for (const curve of sweep.curves) {
    out.push('', ...lines(curveCaption(curve)));
    if (curve.steps.length > 0) out.push(fitTable(CURVE_HEAD, CURVE_ALIGN, curveRows(curve), 1, width), ...lines(CURVE_LEGEND));
    out.push(...lines(stoppedLine(curve, sweep.sloMs)));
  }
  out.push('', ...lines(sloTitle(sweep)), fitTable(SLO_HEAD, SLO_ALIGN, sloRows(sweep), 1, width), ...lines(SLO_LEGEND), '');
  out.push(...definitionsLegend(SWEEP_TERMS).flatMap((l) => wrap(l, width, 2)));
  return out.join('\n');
}

/**
 * The sweep as markdown sections: `## Sweep` with a `###` per pattern, `## Capacity at SLO (…)`
 * and `## Definitions` of the sweep's terms. Empty for a document without a sweep.
 */
export function renderSweepMarkdown(doc: ResultsDocument): string {
  const sweep = doc.sweep;
  if (!sweep) return '';
  const out: string[] = ['## Sweep', '', `${sweepLine(sweep)}.`, ''];
  for (const curve of sweep.curves) {
    out.push(`### ${curveCaption(curve)}`, '');
    if (curve.steps.length > 0) out.push(mdTable(CURVE_HEAD, CURVE_ALIGN, curveRows(curve)), '');
    out.push(`*${stoppedLine(curve, sweep.sloMs)}*`, '');
  }
  out.push(`## ${sloTitle(sweep)}`, '', mdTable(SLO_HEAD, SLO_ALIGN, sloRows(sweep)), '');
  out.push('## Definitions', '', ...definitionsMarkdown(SWEEP_TERMS), '');
  return out.join('\n');
}
