import type { CompletedRun, ResultsDocument, RunResult } from '../bench/results.js';
import { medianWithCi, type MedianEstimate } from '../bench/stats.js';
import type { TransportInfo } from '../patterns/types.js';

type Invariants = CompletedRun['invariants'];
type Counts = Omit<Invariants, 'ok'>;

/** One pattern × scenario over its trials: medians, with the CI of throughput. */
export interface SummaryRow {
  readonly pattern: string;
  readonly scenario: string;
  readonly trials: number;
  readonly completedTrials: number;
  readonly errors: readonly { readonly trial: number; readonly code: string; readonly message: string }[];
  readonly transport: TransportInfo | null;
  readonly achieved: MedianEstimate | null;
  readonly offered: number | null;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number } | null;
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
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly compensations: number;
  readonly played: readonly string[];
  /** false: the scenario did not reach this pattern in any trial. */
  readonly applied: boolean;
}

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
      latencyMs:
        done.length === 0
          ? null
          : {
              p50: medianOf(done, (r) => r.latencyMs.p50) ?? 0,
              p90: medianOf(done, (r) => r.latencyMs.p90) ?? 0,
              p99: medianOf(done, (r) => r.latencyMs.p99) ?? 0,
              p999: medianOf(done, (r) => r.latencyMs.p999) ?? 0,
              max: medianOf(done, (r) => r.latencyMs.max) ?? 0,
            },
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
