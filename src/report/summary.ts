import type { Recovery } from '../bench/failure.js';
import type { CompletedRun, ResultsDocument, RunConsistency, RunResult } from '../bench/results.js';
import { medianWithCi, type MedianEstimate } from '../bench/stats.js';
import { mergeLatency, type LatencySummary } from '../metrics/histogram.js';
import type { TransportInfo } from '../patterns/types.js';

type Invariants = CompletedRun['invariants'];
type Counts = Omit<Invariants, 'ok'>;

/** A row's latency, ms: its lower-bound count is known (0 for older files). */
export type RowLatency = Required<LatencySummary>;

/** SummaryRow.reads. */
export interface RowReads {
  readonly perSecond: number;
  readonly placed: number;
  readonly failed: number;
  /** null when no read answered or failed in the window. */
  readonly latencyMs: RowLatency | null;
  /** Read-your-writes over the trials (counts summed, time to consistency merged); null when no trial has it (older files). */
  readonly consistency: RowConsistency | null;
}

/** RowReads.consistency. */
export interface RowConsistency {
  readonly checked: number;
  readonly stale: number;
  readonly unresolved: number;
  /** null when no check resolved. */
  readonly timeToConsistencyMs: RowLatency | null;
}

/** One pattern × scenario over its trials: latency from the merged trials, other figures the medians of the trials, intervals on orders/s, p50 and p99. */
export interface SummaryRow {
  readonly pattern: string;
  readonly scenario: string;
  readonly trials: number;
  readonly completedTrials: number;
  readonly errors: readonly { readonly trial: number; readonly code: string; readonly message: string }[];
  readonly transport: TransportInfo | null;
  /** orders/s: the median of the trials' and its interval. */
  readonly achieved: MedianEstimate | null;
  /** Open loop: orders/s sent (median of trials); null for closed loop. */
  readonly offered: number | null;
  /** Open loop: orders/s asked for (median of trials); null for closed loop. */
  readonly target: number | null;
  /**
   * Every order started in the window, over all completed trials: the trials' histograms
   * merged when every trial has one; otherwise (older files) the median of the trials'
   * percentiles, max the largest maximum, counts summed. null: no completed trial, or no order.
   */
  readonly latencyMs: RowLatency | null;
  /** The median of the trials' own p50 and p99, with its order-statistic interval. */
  readonly p50Ci: MedianEstimate | null;
  readonly p99Ci: MedianEstimate | null;
  /** Orders in the latency figures (`latencyMs.count`), 0 when none. */
  readonly samples: number;
  /** Orders that reached a business outcome inside the window, summed over trials (achieved × window where a file lacks it); null: no completed trial. */
  readonly completedInWindow: number | null;
  /**
   * The mixed workload's reads (`--read-share`): reads/s the median of the trials', latency
   * combined from the trials' summaries (as `failedLatencyMs`), counts summed; null without reads.
   */
  readonly reads: RowReads | null;
  /** Open loop: how late the generator started orders, the largest p99 of the trials, ms; null for closed loop. */
  readonly schedulerLatenessP99Ms: number | null;
  /** The failed and timed-out orders alone, combined as `latencyMs` is from summaries; null when none failed. */
  readonly failedLatencyMs: RowLatency | null;
  readonly acceptLatencyMs: { readonly p50: number; readonly p99: number } | null;
  readonly sequential: { readonly meanMs: number; readonly p99Ms: number; readonly rmePercent: number } | null;
  /** Summed over trials. */
  readonly outcomes: { readonly placed: number; readonly confirmed: number; readonly cancelled: number; readonly failed: number; readonly timedOut: number };
  readonly cpuMicrosPerOrder: number | null;
  readonly eventLoopUtilization: number | null;
  /** The system's threads' CPU per order; null when it shared the generator's thread or per-thread CPU is not available. */
  readonly systemCpuMicrosPerOrder: number | null;
  readonly generatorCpuMicrosPerOrder: number | null;
  /** The system thread whose loop was busiest (median busy share over trials; the first trial's name). */
  readonly busiestThread: { readonly name: string; readonly eventLoopUtilization: number } | null;
  readonly sharesGeneratorThread: boolean;
  readonly bytesPerOrder: number | null;
  readonly messagesPerOrder: number | null;
  /** Traffic the wire figures leave out (TransportInfo.wireExcludes). */
  readonly wireExcludes: string | null;
  /** Summed over trials; ok only if every trial was ok. */
  readonly invariants: Invariants | null;
  readonly backlog: { readonly peakDepth: number; readonly drainMs: number | null } | null;
  /** Sagas: failure detected → fully compensated (medians of trials). */
  readonly compensationMs: { readonly p50: number; readonly p99: number; readonly count: number } | null;
  /** Event sourcing: projection lag (medians of trials) and conflicts/retries per 1,000 orders. */
  readonly projection: { readonly lagP50: number; readonly lagP99: number; readonly conflictsPer1k: number | null; readonly retriesPer1k: number | null } | null;
  /** Orchestrated sagas: steps per order and sagas resumed after restarts (summed). */
  readonly saga: { readonly stepsPerOrder: number; readonly resumed: number } | null;
  /** Fault scenarios only: medians over trials (errors and compensations summed). */
  readonly failure: FailureSummary | null;
}

export interface FailureSummary {
  readonly successRate: number;
  readonly p99BeforeMs: number | null;
  readonly p99DuringMs: number | null;
  readonly p99AfterMs: number | null;
  /** null: not back within the window in at least one trial (or the fault never ended). */
  readonly timeToRecoverMs: number | null;
  /** Time to recover over the trials, with what it means. */
  readonly recovery: RowRecovery;
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly compensations: number;
  readonly played: readonly string[];
  /** false: the scenario did not reach this pattern in any trial. */
  readonly applied: boolean;
}

/**
 * Recovery over a row's trials: `recovered` is the median over the trials that recovered
 * or never dropped (those count 0 ms); any trial not back within its window makes the row
 * `not-recovered`, with how many of how many trials.
 */
export type RowRecovery =
  | { readonly kind: 'recovered'; readonly ms: number }
  | { readonly kind: 'never-dropped' }
  | { readonly kind: 'not-recovered'; readonly trials: number; readonly of: number }
  | { readonly kind: 'whole-window' }
  | { readonly kind: 'not-applied' };

const median = (xs: readonly number[]): number | null => medianWithCi(xs)?.median ?? null;

function medianOf(runs: readonly CompletedRun[], pick: (r: CompletedRun) => number | null | undefined): number | null {
  const xs: number[] = [];
  for (const r of runs) {
    const v = pick(r);
    if (typeof v === 'number') xs.push(v);
  }
  return median(xs);
}

/** Group the runs by pattern × scenario, in the order they ran. */
export function summarize(doc: ResultsDocument): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of doc.runs) {
    const key = `${run.scenario}\u0000${run.pattern}`;
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  const rows: SummaryRow[] = [];
  for (const runs of groups.values()) {
    const first = runs[0];
    if (!first) continue;
    const done = runs.filter((r): r is CompletedRun => r.state === 'completed');
    const errors = runs.flatMap((r) => (r.state === 'errored' ? [{ trial: r.trial, ...r.error }] : []));
    const sum = (pick: (r: CompletedRun) => number) => done.reduce((acc, r) => acc + pick(r), 0);
    let invariants: Invariants | null = null;
    if (done.length > 0) {
      const counts = {} as Record<keyof Counts, number>;
      for (const r of done) {
        for (const [k, v] of Object.entries(r.invariants)) {
          if (k === 'ok' || typeof v !== 'number') continue;
          counts[k as keyof Counts] = (counts[k as keyof Counts] ?? 0) + v;
        }
      }
      invariants = { ...(counts as Counts), ok: done.every((r) => r.invariants.ok) };
    }
    const withAccept = done.filter((r) => r.acceptLatencyMs !== null);
    const sampled = done.filter((r) => r.latencyMs.count > 0);
    const latencyMs = trialsLatency(done);
    const withSeq = done.filter((r) => r.sequential !== null);
    rows.push({
      pattern: first.pattern,
      scenario: first.scenario,
      trials: runs.length,
      completedTrials: done.length,
      errors,
      transport: done[0]?.transport ?? null,
      achieved: medianWithCi(done.map((r) => r.throughput.achieved)),
      offered: medianOf(done, (r) => r.throughput.offered),
      target: medianOf(done, (r) => r.throughput.target),
      latencyMs,
      p50Ci: medianWithCi(sampled.map((r) => r.latencyMs.p50)),
      p99Ci: medianWithCi(sampled.map((r) => r.latencyMs.p99)),
      samples: latencyMs?.count ?? 0,
      completedInWindow: done.length === 0 ? null : sum((r) => r.completedInWindow ?? Math.round((r.throughput.achieved * r.durationMs) / 1000)),
      reads: rowReads(done),
      schedulerLatenessP99Ms: maxOf(done.map((r) => r.schedulerLatenessMs?.p99)),
      failedLatencyMs: fromSummaries(done.flatMap((r) => (r.failedLatencyMs ? [r.failedLatencyMs] : []))),
      acceptLatencyMs:
        withAccept.length === 0
          ? null
          : { p50: medianOf(withAccept, (r) => r.acceptLatencyMs?.p50) ?? 0, p99: medianOf(withAccept, (r) => r.acceptLatencyMs?.p99) ?? 0 },
      sequential:
        withSeq.length === 0
          ? null
          : {
              meanMs: medianOf(withSeq, (r) => r.sequential?.meanMs) ?? 0,
              p99Ms: medianOf(withSeq, (r) => r.sequential?.p99Ms) ?? 0,
              rmePercent: medianOf(withSeq, (r) => r.sequential?.rmePercent) ?? 0,
            },
      outcomes: {
        placed: sum((r) => r.outcomes.placed),
        confirmed: sum((r) => r.outcomes.confirmed),
        cancelled: sum((r) => r.outcomes.cancelled),
        failed: sum((r) => r.outcomes.failed),
        timedOut: sum((r) => r.outcomes.timedOut),
      },
      cpuMicrosPerOrder: medianOf(done, (r) => r.cost.cpuMicrosPerOrder),
      eventLoopUtilization: medianOf(done, (r) => r.cost.eventLoopUtilization),
      systemCpuMicrosPerOrder: medianOf(done, (r) => r.cost.system?.cpuMicrosPerOrder),
      generatorCpuMicrosPerOrder: medianOf(done, (r) => r.cost.generator?.cpuMicrosPerOrder),
      busiestThread: busiestOf(done),
      sharesGeneratorThread: done.some((r) => r.cost.system?.sharesGeneratorThread === true),
      bytesPerOrder: medianOf(done, (r) => r.cost.bytesPerOrder),
      messagesPerOrder: medianOf(done, (r) => r.cost.messagesPerOrder),
      wireExcludes: done.find((r) => r.transport.wireExcludes)?.transport.wireExcludes ?? null,
      invariants,
      backlog: done.some((r) => r.backlog)
        ? { peakDepth: medianOf(done, (r) => r.backlog?.peakDepth) ?? 0, drainMs: medianOf(done, (r) => r.backlog?.drainMs) }
        : null,
      failure: summarizeFailure(done),
      compensationMs: done.some((r) => r.compensationMs)
        ? {
            p50: medianOf(done, (r) => r.compensationMs?.p50) ?? 0,
            p99: medianOf(done, (r) => r.compensationMs?.p99) ?? 0,
            count: sum((r) => r.compensationMs?.count ?? 0),
          }
        : null,
      projection: done.some((r) => r.projection)
        ? {
            lagP50: medianOf(done, (r) => r.projection?.projectionLagMs.p50) ?? 0,
            lagP99: medianOf(done, (r) => r.projection?.projectionLagMs.p99) ?? 0,
            conflictsPer1k: medianOf(done, (r) => r.projection?.conflictsPer1000Orders),
            retriesPer1k: medianOf(done, (r) => r.projection?.retriesPer1000Orders),
          }
        : null,
      saga: done.some((r) => r.saga)
        ? { stepsPerOrder: medianOf(done, (r) => r.saga?.stepsPerOrder) ?? 0, resumed: sum((r) => r.saga?.resumed ?? 0) }
        : null,
    });
  }
  return rows;
}

/** The trials' reads as one row's; null when no completed trial read. */
function rowReads(done: readonly CompletedRun[]): RowReads | null {
  const withReads = done.flatMap((r) => (r.reads ? [r.reads] : []));
  if (withReads.length === 0) return null;
  return {
    perSecond: median(withReads.map((r) => r.perSecond)) ?? 0,
    placed: withReads.reduce((n, r) => n + r.placed, 0),
    failed: withReads.reduce((n, r) => n + r.failed, 0),
    latencyMs: fromSummaries(withReads.map((r) => r.latencyMs)),
    consistency: rowConsistency(withReads.flatMap((r) => (r.consistency ? [r.consistency] : []))),
  };
}

function rowConsistency(all: readonly RunConsistency[]): RowConsistency | null {
  if (all.length === 0) return null;
  const total = (pick: (c: RunConsistency) => number) => all.reduce((n, c) => n + pick(c), 0);
  return { checked: total((c) => c.checked), stale: total((c) => c.stale), unresolved: total((c) => c.unresolved), timeToConsistencyMs: fromSummaries(all.map((c) => c.timeToConsistencyMs)) };
}

function maxOf(xs: readonly (number | null | undefined)[]): number | null {
  const present = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return present.length === 0 ? null : Math.max(...present);
}

/** The trials' latency as one: merged histograms when every trial has one, else from their summaries. */
function trialsLatency(done: readonly CompletedRun[]): RowLatency | null {
  if (done.length === 0) return null;
  const parts = done.flatMap((r) => (r.latencyHistogram === undefined ? [] : [{ histogram: r.latencyHistogram, summary: r.latencyMs }]));
  if (parts.length < done.length) return fromSummaries(done.map((r) => r.latencyMs));
  const merged = mergeLatency(parts);
  return merged.count === 0 ? null : { ...merged, lowerBounds: merged.lowerBounds ?? 0 };
}

/**
 * Summaries without their histograms: each percentile the median of the trials' (trials
 * with no order left out), max the largest maximum and every percentile at most that,
 * counts and lower bounds summed, mean weighted by count. null when no order at all.
 */
function fromSummaries(all: readonly LatencySummary[]): RowLatency | null {
  const parts = all.filter((s) => s.count > 0);
  if (parts.length === 0) return null;
  const max = Math.max(...parts.map((s) => s.max));
  const count = parts.reduce((a, s) => a + s.count, 0);
  const at = (pick: (s: LatencySummary) => number) => Math.min(max, median(parts.map(pick)) ?? 0);
  return {
    p50: at((s) => s.p50),
    p90: at((s) => s.p90),
    p99: at((s) => s.p99),
    p999: at((s) => s.p999),
    max,
    mean: Math.round((parts.reduce((a, s) => a + s.mean * s.count, 0) / count) * 1000) / 1000,
    count,
    lowerBounds: parts.reduce((a, s) => a + (s.lowerBounds ?? 0), 0),
  };
}

/** One trial's recovery; files without `recovery` are read from timeToRecoverMs and the fault window. */
function recoveryOf(r: CompletedRun): Recovery {
  const f = r.failure;
  if (!f || !f.applied) return { kind: 'not-applied' };
  if (f.recovery) return f.recovery;
  if (f.timeToRecoverMs === 0) return { kind: 'never-dropped' };
  if (f.timeToRecoverMs !== null) return { kind: 'recovered', ms: f.timeToRecoverMs };
  // null meant either: the fault covered the window's start (nothing before it) or its end, or no recovery in time.
  const w = f.faultWindowMs;
  if (!w || w.fromMs < r.timelineBucketMs || w.toMs >= r.durationMs) return { kind: 'whole-window' };
  return { kind: 'not-recovered' };
}

function combineRecovery(trials: readonly Recovery[]): RowRecovery {
  const applied = trials.filter((t) => t.kind !== 'not-applied');
  if (applied.length === 0) return { kind: 'not-applied' };
  const missed = applied.filter((t) => t.kind === 'not-recovered').length;
  if (missed > 0) return { kind: 'not-recovered', trials: missed, of: trials.length };
  const ended = applied.filter((t) => t.kind !== 'whole-window');
  if (ended.length === 0) return { kind: 'whole-window' };
  if (ended.every((t) => t.kind === 'never-dropped')) return { kind: 'never-dropped' };
  return { kind: 'recovered', ms: median(ended.map((t) => (t.kind === 'recovered' ? t.ms : 0))) ?? 0 };
}

function busiestOf(done: readonly CompletedRun[]): SummaryRow['busiestThread'] {
  const first = done.find((r) => r.cost.system?.busiestThread)?.cost.system.busiestThread;
  if (!first) return null;
  return { name: first.name, eventLoopUtilization: medianOf(done, (r) => r.cost.system?.busiestThread?.eventLoopUtilization) ?? 0 };
}

function summarizeFailure(done: readonly CompletedRun[]): FailureSummary | null {
  const runs = done.filter((r) => r.failure);
  if (runs.length === 0) return null;
  const p99Of = (name: string) => medianOf(runs, (r) => r.failure?.segments.find((s) => s.name === name && s.latency.count > 0)?.latency.p99);
  const errorsByKind: Record<string, number> = {};
  let compensations = 0;
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.failure?.errorsByKind ?? {})) errorsByKind[k] = (errorsByKind[k] ?? 0) + v;
    compensations += r.failure?.compensations ?? 0;
  }
  const recover = runs.map((r) => r.failure?.timeToRecoverMs ?? null);
  return {
    successRate: medianOf(runs, (r) => r.failure?.successRate) ?? 0,
    p99BeforeMs: p99Of('before'),
    p99DuringMs: p99Of('during'),
    p99AfterMs: p99Of('after'),
    timeToRecoverMs: recover.some((v) => v === null) ? null : median(recover as number[]),
    recovery: combineRecovery(runs.map(recoveryOf)),
    errorsByKind,
    compensations,
    played: (runs[0]?.failure?.played ?? []).map((p) => `${(p.atMs / 1000).toFixed(1)} s: ${p.what}`),
    applied: runs.some((r) => r.failure?.applied),
  };
}

/** "OK", or the broken invariants with their counts. */
export function invariantVerdict(inv: Invariants | null): string {
  if (!inv) return '—';
  if (inv.ok) return 'OK';
  const broken = Object.entries(inv).filter(([k, v]) => k !== 'ok' && k !== 'duplicatesAbsorbed' && typeof v === 'number' && v > 0);
  return `BROKEN: ${broken.map(([k, v]) => `${k} ${v}`).join(', ')}`;
}
