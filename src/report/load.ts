import Table from 'cli-table3';
import { markdownTable } from 'markdown-table';
import type { CapacityRun, ResultsDocument } from '../bench/results.js';
import { medianWithCi, type MedianEstimate } from '../bench/stats.js';
import { atLeast } from '../metrics/histogram.js';
import { fmtInt, fmtMs, fmtPercent } from './format.js';
import { fitTable } from './terminal.js';
import { invariantVerdict } from './summary.js';

/** `0.5 s`, `1 s`: a window as the captions say it. */
const seconds = (ms: number) => `${ms / 1000} s`;

/**
 * How every run of the document was loaded, in one line:
 * - equal load: `open loop at 412 orders/s for every pattern: 70% of the slowest pattern's capacity (saga-orchestration, 589 orders/s)`;
 * - `--rate`: `open loop at 1,000 orders/s for every pattern (--rate)`;
 * - `--concurrency`: `closed loop, 10 orders in flight`.
 */
export function loadLine(doc: ResultsDocument): string {
  const { load } = doc.config;
  if (load.kind === 'closed') return `closed loop, ${fmtInt(load.concurrency)} orders in flight`;
  if (load.kind === 'open') return `open loop at ${fmtInt(load.rate)} orders/s for every pattern (--rate)`;
  if (load.kind === 'sweep') return `open loop, stepped up per pattern (sweep; SLO p99 ≤ ${load.settings.sloMs} ms)`;
  const equal = doc.equalLoad;
  const share = `${fmtPercent(load.fraction)} of the slowest pattern's capacity`;
  // Aborted or failed in the capacity phase: no rate was ever set.
  if (!equal) return `open loop at ${share} (no rate: the capacity phase did not finish)`;
  if (equal.source === 'fixed') return `open loop at ${fmtInt(equal.rate)} orders/s for every pattern (--rate)`;
  const basis = equal.basis ? ` (${equal.basis.pattern}, ${fmtInt(equal.basis.capacity)} orders/s)` : '';
  return `open loop at ${fmtInt(equal.rate)} orders/s for every pattern: ${fmtPercent(equal.fraction ?? load.fraction)} of the slowest pattern's capacity${basis}`;
}

/**
 * The main table's load in its title: `412 orders/s, open loop` under equal load,
 * `1,000 orders/s, open loop, --rate`, `closed loop, 10 in flight`.
 */
export function loadTitle(doc: ResultsDocument): string {
  const { load } = doc.config;
  if (load.kind === 'closed') return `closed loop, ${fmtInt(load.concurrency)} in flight`;
  if (load.kind === 'open') return `${fmtInt(load.rate)} orders/s, open loop, --rate`;
  if (load.kind === 'sweep') return 'stepped open loop, sweep';
  return doc.equalLoad ? `${fmtInt(doc.equalLoad.rate)} orders/s, open loop` : 'open loop';
}

/** The main table's title: `Throughput and latency at equal load (412 orders/s, open loop)`; a closed loop is not equal load. */
export function mainTableTitle(doc: ResultsDocument): string {
  const { kind } = doc.config.load;
  return kind === 'closed' || kind === 'sweep' ? `Throughput and latency (${loadTitle(doc)})` : `Throughput and latency at equal load (${loadTitle(doc)})`;
}

/**
 * A closed loop's latency is not corrected for coordinated omission: say so, and what to
 * use instead. null under an open loop (equal load or --rate), whose latency is timed from
 * each order's intended start.
 */
export function coordinatedOmissionWarning(doc: ResultsDocument): string | null {
  if (doc.config.load.kind !== 'closed') return null;
  return (
    'Warning: closed loop: latency has no coordinated-omission correction. Each client waits for its order before placing the next ' +
    'instead of arriving on schedule, so a stall delays the orders that would have arrived during it and they are never counted: ' +
    'stalls are under-counted and the tail looks better than it is. Use --rate or the default equal load.'
  );
}

/** One pattern's capacity over its trials. */
export interface CapacityRow {
  readonly pattern: string;
  readonly trials: number;
  /** Orders/s, the median over completed trials with its interval; null when none completed. */
  readonly capacity: MedianEstimate | null;
  /** The median over completed trials of their p99, ms. */
  readonly p99Ms: number | null;
  /** A trial's p99 fell among orders that timed out: the figure is a lower bound. */
  readonly p99AtLeast: boolean;
  /** The busiest system thread (the first trial's name, the median busy share). */
  readonly busiestThread: { readonly name: string; readonly eventLoopUtilization: number } | null;
  /** The equal-load rate as a share of this capacity, 0..; null without one of them. */
  readonly equalLoadShare: number | null;
  readonly errors: readonly { readonly trial: number; readonly code: string; readonly message: string }[];
  /** Completed trials whose run broke its invariants, with the checker's verdict: their orders/s counts orders that went wrong. */
  readonly broken: readonly { readonly trial: number; readonly verdict: string }[];
}

const medianOf = (xs: readonly number[]) => medianWithCi(xs)?.median ?? null;

/** The capacity phase per pattern, in the order the patterns ran; empty without one. */
export function capacityRows(doc: ResultsDocument): CapacityRow[] {
  const phase = doc.capacity;
  if (!phase) return [];
  const groups = new Map<string, CapacityRun[]>();
  for (const run of phase.runs) groups.set(run.pattern, [...(groups.get(run.pattern) ?? []), run]);
  const rate = doc.equalLoad?.rate ?? null;
  return [...groups.entries()].map(([pattern, runs]) => {
    const done = runs.filter((r) => r.state === 'completed' && r.achieved !== null);
    const capacity = medianWithCi(done.map((r) => r.achieved as number));
    const first = done.find((r) => r.busiestThread)?.busiestThread;
    const busy = done.flatMap((r) => (r.busiestThread ? [r.busiestThread.eventLoopUtilization] : []));
    return {
      pattern,
      trials: runs.length,
      capacity,
      p99Ms: medianOf(done.flatMap((r) => (r.latencyMs ? [r.latencyMs.p99] : []))),
      p99AtLeast: done.some((r) => r.latencyMs !== null && atLeast(r.latencyMs, 99)),
      busiestThread: first ? { name: first.name, eventLoopUtilization: medianOf(busy) ?? first.eventLoopUtilization } : null,
      equalLoadShare: rate !== null && capacity && capacity.median > 0 ? rate / capacity.median : null,
      errors: runs.flatMap((r) => (r.state === 'errored' && r.error ? [{ trial: r.trial, ...r.error }] : [])),
      broken: done.flatMap((r) => (r.invariants && !r.invariants.ok ? [{ trial: r.trial, verdict: invariantVerdict(r.invariants) }] : [])),
    };
  });
}

/** `70%`, and one decimal below 10% (`4.2%`), where a whole percent would say 4% for 3.5–4.5. */
export function shareText(share: number | null): string {
  if (share === null || !Number.isFinite(share)) return '—';
  const pct = share * 100;
  return pct < 10 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

/** `Capacity: closed loop, 16 orders in flight, 1 s per pattern` (`, median of 3 trials` with more than one). */
export function capacityCaption(doc: ResultsDocument): string | null {
  const phase = doc.capacity;
  if (!phase) return null;
  const trials = Math.max(0, ...phase.runs.map((r) => r.trial));
  return `Capacity: closed loop, ${fmtInt(phase.concurrency)} orders in flight, ${seconds(phase.durationMs)} per pattern${trials > 1 ? `, median of ${trials} trials` : ''}`;
}

const CAPACITY_HEAD = ['pattern', 'capacity orders/s', 'p99 ms at capacity', 'busiest thread', 'equal load is'] as const;
const CAPACITY_ALIGN = ['left', 'right', 'right', 'right', 'right'] as const;

function capacityCell(row: CapacityRow): string {
  const c = row.capacity;
  if (!c) return row.errors[0] ? `errored: ${row.errors[0].code}` : '—';
  if (c.n < 2) return fmtInt(c.median);
  return `${fmtInt(c.median)} (${fmtInt(c.low)}–${fmtInt(c.high)}, ${fmtPercent(c.confidence)} CI, n=${c.n})`;
}

/** The capacity table's cells, row by row, in CAPACITY_HEAD's order. */
export function capacityCells(row: CapacityRow): string[] {
  return [
    row.pattern,
    capacityCell(row),
    row.p99AtLeast && row.p99Ms !== null ? `≥ ${fmtMs(row.p99Ms)}` : fmtMs(row.p99Ms),
    row.busiestThread ? `${row.busiestThread.name} ${fmtPercent(row.busiestThread.eventLoopUtilization)}` : '—',
    row.equalLoadShare === null ? '—' : `${shareText(row.equalLoadShare)} of it`,
  ];
}

/** The errored capacity runs, one line each: `rest trial 2: PB_ERR_X: message`. */
function capacityErrors(rows: readonly CapacityRow[]): string[] {
  return rows.flatMap((r) => r.errors.map((e) => `${r.pattern} trial ${e.trial}: ${e.code}: ${e.message}`));
}

/** The capacity runs that broke their invariants, one line each. */
export function capacityBroken(rows: readonly CapacityRow[]): string[] {
  return rows.flatMap((r) => r.broken.map((b) => `${r.pattern}${r.trials > 1 ? ` trial ${b.trial}` : ''} broke its invariants in its capacity run (${b.verdict}): its capacity counts orders that went wrong.`));
}

/** What the capacity table's columns mean, in one line under it. */
export const CAPACITY_LEGEND = 'capacity: orders/s when saturated (closed loop) · p99 at capacity · busiest thread: what capped it';

/**
 * The terminal capacity table under its caption, then any errored capacity run; '' without
 * a capacity phase. With `width`, split into tables that fit it (pattern repeated).
 */
export function renderCapacityTable(doc: ResultsDocument, width?: number): string {
  const caption = capacityCaption(doc);
  if (caption === null) return '';
  const rows = capacityRows(doc);
  let table: { toString(): string };
  if (width === undefined) {
    const full = new Table({ head: [...CAPACITY_HEAD], colAligns: [...CAPACITY_ALIGN], style: { head: [], border: [] } });
    for (const row of rows) full.push(capacityCells(row));
    table = full;
  } else table = fitTable(CAPACITY_HEAD, CAPACITY_ALIGN, rows.map(capacityCells), 1, width);
  const errors = capacityErrors(rows);
  return [caption, table.toString(), ...(errors.length > 0 ? ['Errored capacity runs:', ...errors.map((e) => `  ${e}`)] : []), ...capacityBroken(rows)].join('\n');
}

/** The markdown capacity section's body (caption, table, errored runs); empty without a capacity phase. */
export function capacityMarkdown(doc: ResultsDocument): string[] {
  const caption = capacityCaption(doc);
  if (caption === null) return [];
  const rows = capacityRows(doc);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const table = markdownTable([[...CAPACITY_HEAD], ...rows.map((r) => capacityCells(r).map(esc))], {
    align: CAPACITY_ALIGN.map((a) => (a === 'right' ? 'r' : 'l')),
  });
  const errors = capacityErrors(rows);
  // Under its `## Capacity` heading the caption need not say Capacity again.
  const sentence = caption.replace(/^Capacity: c/, 'C');
  const broken = capacityBroken(rows);
  return [`${sentence}.`, '', table, '', ...(errors.length > 0 ? [...errors.map((e) => `- Errored: ${e}`), ''] : []), ...(broken.length > 0 ? [...broken.map((b) => `- **${b}**`), ''] : [])];
}
