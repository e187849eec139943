import type { MedianEstimate } from '../bench/stats.js';
import { READ_YOUR_WRITES } from '../bench/load/consistency.js';
import { SATURATED } from '../bench/threads.js';
import { atLeast, type LatencySummary } from '../metrics/histogram.js';
import { fmtInt, fmtMs, fmtNum, fmtPercent, fmtSeconds } from './format.js';
import { invariantVerdict, type RowConsistency, type SummaryRow } from './summary.js';

/** A column of a results table: the terminal table and the markdown report share these. */
export interface Column {
  readonly header: string;
  readonly align: 'left' | 'right';
  cell(row: SummaryRow): string;
}

function throughputCell(row: SummaryRow): string {
  const a = row.achieved;
  if (!a) return '—';
  if (a.n < 2) return fmtInt(a.median);
  return `${fmtInt(a.median)} (${fmtInt(a.low)}–${fmtInt(a.high)}, ${fmtPercent(a.confidence)} CI)`;
}

/** The percentiles the tables show; 100 is max. */
export type Percentile = 50 | 90 | 99 | 99.9 | 100;

const FIELD = { 50: 'p50', 90: 'p90', 99: 'p99', 99.9: 'p999', 100: 'max' } as const satisfies Record<Percentile, keyof LatencySummary>;

/** A percentile in ms, `≥ 5,000` where it falls among the timed-out orders (a lower bound); — without figures. */
export function percentileText(latency: LatencySummary | null | undefined, q: Percentile): string {
  if (!latency || latency.count === 0) return '—';
  const text = fmtMs(latency[FIELD[q]]);
  return atLeast(latency, q) ? `≥ ${text}` : text;
}

/** The percentile, and from two trials on the interval of the trials' own: `12.1 (11.0–13.4)`. */
function intervalCell(row: SummaryRow, q: Percentile, ci: MedianEstimate | null): string {
  const text = percentileText(row.latencyMs, q);
  if (text === '—' || !ci || ci.n < 2) return text;
  return `${text} (${fmtMs(ci.low)}–${fmtMs(ci.high)})`;
}

/** Completed trials, and of how many when some did not complete: `3`, `2 of 3`. */
function trialsCell(row: SummaryRow): string {
  return row.completedTrials === row.trials ? fmtInt(row.trials) : `${fmtInt(row.completedTrials)} of ${fmtInt(row.trials)}`;
}

/** What the latency cells mean, for under the table. */
export const LATENCY_NOTE =
  'Percentiles are over every order started in the window (n, all trials merged); *≥*: the percentile falls among orders that timed out, recorded at their deadline, so the real figure is at least that. ' +
  'With two trials or more, orders/s, p50 and p99 carry in brackets the interval of the median of the trials’ own figures (order statistics; its coverage is shown with orders/s).';

/**
 * CPU per completed order: the system's threads and the generator's apart; the process's
 * together when they share a thread (same-thread) or the platform has no per-thread CPU.
 */
function cpuCell(row: SummaryRow): string {
  if (row.systemCpuMicrosPerOrder !== null) return `${fmtNum(row.systemCpuMicrosPerOrder)} / ${fmtNum(row.generatorCpuMicrosPerOrder)}`;
  if (row.cpuMicrosPerOrder === null) return '—';
  // Apart only where Node can tell one thread's CPU (Linux); otherwise the process's, said so.
  return `${fmtNum(row.cpuMicrosPerOrder)} ${row.sharesGeneratorThread ? 'together' : 'process'}`;
}

/** Rows whose system had a thread at or past saturation, in words: that row measures the thread. */
export function saturationNotes(rows: readonly SummaryRow[]): string[] {
  return rows.flatMap((r) =>
    r.busiestThread && r.busiestThread.eventLoopUtilization >= SATURATED
      ? [`${r.pattern} (${r.scenario}): ${r.busiestThread.name} thread ${fmtPercent(r.busiestThread.eventLoopUtilization)} busy: this row measures that thread.`]
      : [],
  );
}

/** Open-loop rows whose generator started orders late by more than 10% of their p50 (at p99): part of their latency is the generator's. */
export function latenessNotes(rows: readonly SummaryRow[]): string[] {
  return rows.flatMap((r) =>
    r.schedulerLatenessP99Ms !== null && r.latencyMs && r.schedulerLatenessP99Ms > 0.1 * r.latencyMs.p50
      ? [
          `${r.pattern} (${r.scenario}): the load generator started orders up to ${fmtMs(r.schedulerLatenessP99Ms)} ms late (p99), more than 10% of p50 ${fmtMs(r.latencyMs.p50)} ms: latency here is partly the generator's.`,
        ]
      : [],
  );
}

/** Open loop: how late the generator started orders at p99, the largest over trials, ms; — for a closed loop. */
export function latenessText(row: SummaryRow): string {
  return fmtMs(row.schedulerLatenessP99Ms);
}

/** The failed and timed-out orders' latency p50 / p99 (≥ where it falls among the timeouts), ms; — when no order failed. */
export function failedLatencyText(row: SummaryRow): string {
  const failed = row.failedLatencyMs;
  if (!failed || failed.count === 0) return '—';
  return `${percentileText(failed, 50)} / ${percentileText(failed, 99)}`;
}

/** Time to recover over a row's trials, in words: `1.2 s`, `never dropped`, `not within the window in 1 of 3 trials`… — without fault figures. */
export function recoveryText(row: SummaryRow): string {
  const r = row.failure?.recovery;
  if (!r) return '—';
  switch (r.kind) {
    case 'recovered':
      return fmtSeconds(r.ms);
    case 'never-dropped':
      return 'never dropped';
    case 'not-recovered':
      return r.trials === r.of ? 'not within the window' : `not within the window in ${r.trials} of ${r.of} trials`;
    case 'whole-window':
      return 'fault lasts the whole window';
    case 'not-applied':
      return 'n/a: not affected';
  }
}

/** A wire figure that leaves some traffic out says so: `1,204 excl. PostgreSQL`. */
const excluding = (text: string, r: SummaryRow) => (r.wireExcludes && text !== '—' ? `${text} excl. ${r.wireExcludes}` : text);

/** Throughput, latency and wire cost. */
export const PERFORMANCE_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  { header: 'trials', align: 'right', cell: trialsCell },
  { header: 'orders/s', align: 'right', cell: throughputCell },
  { header: 'n', align: 'right', cell: (r) => (r.completedTrials === 0 ? '—' : fmtInt(r.samples)) },
  { header: 'p50 ms', align: 'right', cell: (r) => intervalCell(r, 50, r.p50Ci) },
  { header: 'p90 ms', align: 'right', cell: (r) => percentileText(r.latencyMs, 90) },
  { header: 'p99 ms', align: 'right', cell: (r) => intervalCell(r, 99, r.p99Ci) },
  { header: 'p99.9 ms', align: 'right', cell: (r) => percentileText(r.latencyMs, 99.9) },
  { header: 'max ms', align: 'right', cell: (r) => percentileText(r.latencyMs, 100) },
  { header: 'lateness p99 ms', align: 'right', cell: latenessText },
  {
    header: 'accept p50/p99 ms',
    align: 'right',
    cell: (r) => (r.acceptLatencyMs ? `${fmtMs(r.acceptLatencyMs.p50)} / ${fmtMs(r.acceptLatencyMs.p99)}` : '—'),
  },
  { header: 'bytes/order', align: 'right', cell: (r) => excluding(fmtInt(r.bytesPerOrder), r) },
  { header: 'msgs/order', align: 'right', cell: (r) => excluding(fmtNum(r.messagesPerOrder), r) },
];

/** Outcomes, invariants and CPU cost. */
export const OUTCOME_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  { header: 'confirmed', align: 'right', cell: (r) => fmtInt(r.outcomes.confirmed) },
  { header: 'cancelled', align: 'right', cell: (r) => fmtInt(r.outcomes.cancelled) },
  { header: 'failed', align: 'right', cell: (r) => fmtInt(r.outcomes.failed + r.outcomes.timedOut) },
  { header: 'CPU µs/order system / generator', align: 'right', cell: cpuCell },
  { header: 'busiest thread', align: 'right', cell: (r) => (r.busiestThread ? `${r.busiestThread.name} ${fmtPercent(r.busiestThread.eventLoopUtilization)}` : '—') },
  { header: 'generator busy', align: 'right', cell: (r) => (r.sharesGeneratorThread ? 'shared' : fmtPercent(r.eventLoopUtilization)) },
  {
    header: 'sequential mean/p99 ms',
    align: 'right',
    cell: (r) => (r.sequential ? `${fmtMs(r.sequential.meanMs)} / ${fmtMs(r.sequential.p99Ms)} ±${r.sequential.rmePercent.toFixed(1)}%` : '—'),
  },
  { header: 'invariants', align: 'left', cell: (r) => (r.errors.length > 0 && !r.invariants ? `ERRORED: ${r.errors[0]?.code}` : invariantVerdict(r.invariants)) },
];

function topErrors(errors: Readonly<Record<string, number>>): string {
  const sorted = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  if (sorted.length === 0) return 'none';
  const shown = sorted.slice(0, 3).map(([k, v]) => `${k} ${fmtInt(v)}`);
  return sorted.length > 3 ? `${shown.join(', ')}, +${sorted.length - 3} more` : shown.join(', ');
}

const inv = (r: SummaryRow, pick: (i: NonNullable<SummaryRow['invariants']>) => number) => (r.invariants ? fmtInt(pick(r.invariants)) : '—');

/** The failure table: how each pattern behaved under each fault scenario. */
export const FAILURE_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  { header: 'success', align: 'right', cell: (r) => fmtPercent(r.failure?.successRate) },
  { header: 'failed p50/p99 ms', align: 'right', cell: failedLatencyText },
  {
    header: 'p99 before→during ms',
    align: 'right',
    cell: (r) => (r.failure ? `${fmtMs(r.failure.p99BeforeMs)} → ${fmtMs(r.failure.p99DuringMs)}` : '—'),
  },
  { header: 'recovered in', align: 'right', cell: recoveryText },
  { header: 'lost/stuck', align: 'right', cell: (r) => (r.invariants ? `${fmtInt(r.invariants.lost)}/${fmtInt(r.invariants.stuck)}` : '—') },
  { header: 'double-charged', align: 'right', cell: (r) => inv(r, (i) => i.doubleCharged) },
  { header: 'oversold', align: 'right', cell: (r) => inv(r, (i) => i.oversold) },
  { header: 'leaked', align: 'right', cell: (r) => inv(r, (i) => i.leakedReservations + i.leakedCharges) },
  { header: 'compensations', align: 'right', cell: (r) => fmtInt(r.failure?.compensations) },
  { header: 'duplicates absorbed', align: 'right', cell: (r) => inv(r, (i) => i.duplicatesAbsorbed) },
  { header: 'sagas resumed', align: 'right', cell: (r) => (r.saga ? fmtInt(r.saga.resumed) : '—') },
  {
    header: 'backlog peak / drain ms',
    align: 'right',
    cell: (r) => (r.backlog ? `${fmtInt(r.backlog.peakDepth)} / ${fmtMs(r.backlog.drainMs)}` : '—'),
  },
  { header: 'errors by kind', align: 'left', cell: (r) => (r.failure ? topErrors(r.failure.errorsByKind) : '—') },
];

/** Figures only some patterns have: queues, event logs and sagas. */
export const ASYNC_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  {
    header: 'backlog peak / drain ms',
    align: 'right',
    cell: (r) => (r.backlog ? `${fmtInt(r.backlog.peakDepth)} / ${fmtMs(r.backlog.drainMs)}` : '—'),
  },
  {
    header: 'projection lag p50/p99 ms',
    align: 'right',
    cell: (r) => (r.projection ? `${fmtMs(r.projection.lagP50)} / ${fmtMs(r.projection.lagP99)}` : '—'),
  },
  {
    header: 'conflicts / retries per 1k',
    align: 'right',
    cell: (r) => (r.projection ? `${fmtNum(r.projection.conflictsPer1k)} / ${fmtNum(r.projection.retriesPer1k)}` : '—'),
  },
  {
    header: 'compensated p50/p99 ms',
    align: 'right',
    cell: (r) => (r.compensationMs && r.compensationMs.count > 0 ? `${fmtMs(r.compensationMs.p50)} / ${fmtMs(r.compensationMs.p99)}` : '—'),
  },
  { header: 'saga steps/order', align: 'right', cell: (r) => (r.saga ? fmtNum(r.saga.stepsPerOrder, 2) : '—') },
];

/** The mixed workload's reads (`--read-share`), apart from the orders; shown only when some row has reads. */
export const READ_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  { header: 'reads/s', align: 'right', cell: (r) => (r.reads ? fmtInt(r.reads.perSecond) : '—') },
  { header: 'reads n', align: 'right', cell: (r) => (r.reads?.latencyMs ? fmtInt(r.reads.latencyMs.count) : '—') },
  { header: 'read p50 ms', align: 'right', cell: (r) => percentileText(r.reads?.latencyMs, 50) },
  { header: 'read p99 ms', align: 'right', cell: (r) => percentileText(r.reads?.latencyMs, 99) },
  { header: 'read p99.9 ms', align: 'right', cell: (r) => percentileText(r.reads?.latencyMs, 99.9) },
  { header: 'reads failed', align: 'right', cell: (r) => (r.reads ? fmtInt(r.reads.failed) : '—') },
  { header: 'stale reads', align: 'right', cell: (r) => staleText(r.reads?.consistency) },
  { header: 'TTC p50/p99/max ms', align: 'right', cell: (r) => ttcText(r.reads?.consistency) },
  { header: 'never shown', align: 'right', cell: (r) => (r.reads?.consistency ? fmtInt(r.reads.consistency.unresolved) : '—') },
];

/** Read-your-writes: the share of completed orders whose client's first read did not show them, of how many: `4.2% of 363`. */
export function staleText(c: RowConsistency | null | undefined): string {
  if (!c || c.checked === 0) return '—';
  return `${fmtShare(c.stale / c.checked)} of ${fmtInt(c.checked)}`;
}

/** A time to consistency, ms: `0` for an order its first read showed (the histogram keeps it as its floor, 1 µs). */
export const ttcMs = (v: number): string => (v <= 0.001 ? '0' : fmtMs(v));

/** Time to consistency p50 / p99 / max, ms. */
export function ttcText(c: RowConsistency | null | undefined): string {
  const ttc = c?.timeToConsistencyMs;
  return ttc && ttc.count > 0 ? `${ttcMs(ttc.p50)} / ${ttcMs(ttc.p99)} / ${ttcMs(ttc.max)}` : '—';
}

/** A share with one decimal below 10% (0.4%, 9.5%), whole above (42%). */
function fmtShare(share: number): string {
  const pct = share * 100;
  return pct > 0 && pct < 10 ? `${pct.toFixed(1)}%` : `${pct.toFixed(0)}%`;
}

/** Whether any row has anything for READ_COLUMNS. */
export const hasReads = (rows: readonly SummaryRow[]): boolean => rows.some((r) => r.reads !== null);

/** The header line of a mixed workload, or null for orders only. */
export function readShareLine(readShare: number | undefined): string | null {
  if (!readShare) return null;
  return (
    `Reads: ${fmtPercent(readShare)} of the measured operations read a random ordering customer's orders (--read-share ${readShare}); orders/s and order latency count the orders only. ` +
    `Read-your-writes: each order that completes is read back at once by its client, and re-read until it shows its terminal status (within ${fmtSeconds(READ_YOUR_WRITES.boundMs)}); ` +
    'stale reads are the orders the first read missed, TTC (time to consistency) the time from completion to the read that showed it.'
  );
}

/** Whether a row has anything for ASYNC_COLUMNS. */
export const hasAsyncFigures = (r: SummaryRow): boolean =>
  Boolean(r.backlog || r.projection || (r.compensationMs && r.compensationMs.count > 0) || r.saga);

/** The most frequent error kind and its count: `timeout 12`, `none` — the first of the full table's `errors by kind`. */
export function topErrorText(row: SummaryRow): string {
  if (!row.failure) return '—';
  const [top] = Object.entries(row.failure.errorsByKind).sort((a, b) => b[1] - a[1]);
  return top ? `${top[0]} ${fmtInt(top[1])}` : 'none';
}

/** The full set's column of that header, so a condensed table shows the very same cells. */
function reuse(columns: readonly Column[], header: string, shortHeader = header): Column {
  const found = columns.find((c) => c.header === header);
  if (!found) throw new Error(`no column "${header}"`);
  return shortHeader === header ? found : { ...found, header: shortHeader };
}

const perf = (h: string, s?: string) => reuse(PERFORMANCE_COLUMNS, h, s);
const outcome = (h: string, s?: string) => reuse(OUTCOME_COLUMNS, h, s);

/**
 * The terminal's condensed tables (the first two columns are the keys, pattern and
 * scenario): the same cells as the full sets, fewer per table, so they fit 100 columns.
 * `--wide` and the markdown report show the full sets.
 */
export const TERMINAL_PERFORMANCE_COLUMNS: readonly Column[] = ['pattern', 'scenario', 'orders/s', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'].map((h) => perf(h));

/**
 * The performance table's other columns: the deep tail, the generator's lateness, accept
 * latency and wire cost, headers short enough for one table in 100 columns with the longest
 * pattern and scenario names (the legend line says what they are).
 */
export const TERMINAL_TAIL_COLUMNS: readonly Column[] = [
  perf('pattern'),
  perf('scenario'),
  perf('p99.9 ms'),
  perf('lateness p99 ms', 'lateness p99'),
  perf('accept p50/p99 ms', 'accept p50/p99'),
  perf('bytes/order', 'bytes'),
  perf('msgs/order', 'msgs'),
];

/** Outcomes, invariants and the trials that completed. */
export const TERMINAL_OUTCOME_COLUMNS: readonly Column[] = [...['pattern', 'scenario', 'confirmed', 'cancelled', 'failed', 'invariants'].map((h) => outcome(h)), perf('trials')];

/** CPU and threads. */
export const TERMINAL_COST_COLUMNS: readonly Column[] = [
  outcome('pattern'),
  outcome('scenario'),
  outcome('CPU µs/order system / generator', 'CPU µs/order sys / gen'),
  outcome('busiest thread'),
  outcome('generator busy'),
  outcome('sequential mean/p99 ms', 'sequential mean/p99'),
];

/** The reads, headers short enough for one table in 100 columns (the table's title says they are reads). */
export const TERMINAL_READ_COLUMNS: readonly Column[] = ([
  ['pattern'],
  ['scenario'],
  ['reads/s'],
  ['reads n', 'n'],
  ['read p50 ms', 'p50 ms'],
  ['read p99 ms', 'p99 ms'],
  ['reads failed', 'failed'],
  ['stale reads', 'stale'],
  ['TTC p50/p99/max ms', 'TTC p50/p99/max'],
] as const satisfies readonly (readonly [string, string?])[]).map(([h, s]: readonly [string, string?]) => reuse(READ_COLUMNS, h, s));

/** The failure table's key figures; the invariant counts beyond lost/stuck are in the outcome table's verdict. */
export const TERMINAL_FAILURE_COLUMNS: readonly Column[] = [
  ...['pattern', 'scenario', 'success', 'p99 before→during ms', 'recovered in', 'lost/stuck', 'compensations'].map((h) => reuse(FAILURE_COLUMNS, h)),
  { header: 'top error kind', align: 'left', cell: topErrorText },
];
