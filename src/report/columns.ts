import { SATURATED } from '../bench/threads.js';
import { fmtInt, fmtMs, fmtNum, fmtPercent } from './format.js';
import { invariantVerdict, type SummaryRow } from './summary.js';

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

/** A wire figure that leaves some traffic out says so: `1,204 excl. PostgreSQL`. */
const excluding = (text: string, r: SummaryRow) => (r.wireExcludes && text !== '—' ? `${text} excl. ${r.wireExcludes}` : text);

/** Throughput, latency and wire cost. */
export const PERFORMANCE_COLUMNS: readonly Column[] = [
  { header: 'pattern', align: 'left', cell: (r) => r.pattern },
  { header: 'scenario', align: 'left', cell: (r) => r.scenario },
  { header: 'orders/s', align: 'right', cell: throughputCell },
  { header: 'p50 ms', align: 'right', cell: (r) => fmtMs(r.latencyMs?.p50) },
  { header: 'p99 ms', align: 'right', cell: (r) => fmtMs(r.latencyMs?.p99) },
  { header: 'p99.9 ms', align: 'right', cell: (r) => fmtMs(r.latencyMs?.p999) },
  { header: 'max ms', align: 'right', cell: (r) => fmtMs(r.latencyMs?.max) },
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
  {
    header: 'p99 before→during ms',
    align: 'right',
    cell: (r) => (r.failure ? `${fmtMs(r.failure.p99BeforeMs)} → ${fmtMs(r.failure.p99DuringMs)}` : '—'),
  },
  {
    header: 'recovered in',
    align: 'right',
    cell: (r) =>
      !r.failure
        ? '—'
        : !r.failure.applied
          ? 'n/a: not affected'
          : r.failure.timeToRecoverMs === null
            ? 'not in window'
            : `${fmtInt(r.failure.timeToRecoverMs)} ms`,
  },
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

/** Whether a row has anything for ASYNC_COLUMNS. */
export const hasAsyncFigures = (r: SummaryRow): boolean =>
  Boolean(r.backlog || r.projection || (r.compensationMs && r.compensationMs.count > 0) || r.saga);
