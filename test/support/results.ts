import { resolveRunConfig } from '../../src/bench/config.js';
import type { FailureFigures, Recovery } from '../../src/bench/failure.js';
import type { CapacityPhase, CompletedRun, ErroredRun, ResultsDocument, RunResult } from '../../src/bench/results.js';
import type { ThreadCost } from '../../src/bench/threads.js';
import type { LatencySummary } from '../../src/metrics/histogram.js';

/** A latency summary with every percentile from the figures given (ms). */
export function latency(p50: number, p99: number, max = p99, count = 1000): LatencySummary {
  return { p50, p90: (p50 + p99) / 2, p99, p999: max, max, mean: p50, count };
}

const thread = (name: string, role: ThreadCost['role'], elu: number, cpuMs: number | null, components: string[] = []): ThreadCost => ({
  name,
  role,
  components,
  eventLoopUtilization: elu,
  cpuMs,
});

/** A completed run with plausible figures; override what a test is about. */
export function completedRun(overrides: Partial<CompletedRun> = {}): CompletedRun {
  const base: CompletedRun = {
    pattern: 'rest',
    scenario: 'baseline',
    trial: 1,
    state: 'completed',
    transport: { protocol: 'HTTP/1.1', encoding: 'JSON', broker: null, placement: 'shared' },
    throughput: { target: null, offered: null, achieved: 1000 },
    latencyMs: latency(5, 20),
    acceptLatencyMs: null,
    schedulerLatenessMs: null,
    sequential: null,
    outcomes: { placed: 3000, confirmed: 2400, cancelled: 600, failed: 0, timedOut: 0 },
    errors: {},
    cost: {
      cpuMicrosPerOrder: 900,
      eventLoopUtilization: 0.25,
      generator: { thread: 'main', eventLoopUtilization: 0.25, cpuMicrosPerOrder: 150 },
      system: { sharesGeneratorThread: false, cpuMicrosPerOrder: 700, busiestThread: { name: 'system', eventLoopUtilization: 0.6 } },
      bytesPerOrder: 1500,
      messagesPerOrder: 8,
    },
    threads: [thread('main', 'generator', 0.25, 450), thread('system', 'system', 0.6, 2100, ['inventory', 'payments', 'notifications', 'orders'])],
    warmup: { warmupMs: 1500, settled: true, slices: [900, 950, 1000, 990, 1000, 1010] },
    invariants: {
      ok: true,
      stuck: 0,
      lost: 0,
      doubleCharged: 0,
      leakedCharges: 0,
      missingEffects: 0,
      oversold: 0,
      stockNotConserved: 0,
      leakedReservations: 0,
      unexpectedEffects: 0,
      duplicatesAbsorbed: 0,
    },
    backlog: null,
    hopErrors: {},
    hops: null,
    projection: null,
    compensationMs: null,
    saga: null,
    failure: null,
    timelineBucketMs: 100,
    timeline: [],
    durationMs: 3000,
  };
  return { ...base, ...overrides };
}

/** A results document over `runs`, with the config the runs imply. */
export function resultsDoc(runs: readonly RunResult[], config: Parameters<typeof resolveRunConfig>[0] = {}): ResultsDocument {
  const patterns = [...new Set(runs.map((r) => r.pattern))];
  return {
    schemaVersion: 1,
    tool: { name: 'pattern-bench', version: '0.1.0' },
    environment: { node: 'v20.20.2', platform: 'linux', arch: 'x64', osRelease: '6', cpus: 2, cpuModel: 'test cpu', totalMemoryGiB: 24 },
    config: resolveRunConfig({ out: false, patterns, scenarios: [...new Set(runs.map((r) => r.scenario))], ...config }),
    patterns: patterns.map((id) => ({ id, title: `${id} title`, summary: `${id} summary`, tradeOffs: { pros: ['fast'], cons: ['slow'], whenToUse: 'sometimes' }, resilient: id === 'rest' })),
    scenarios: [{ id: 'baseline', title: 'Baseline', description: 'No faults.' }],
    state: 'completed',
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T00:01:00.000Z',
    runs,
  };
}

/** A run that errored: no figures, only its error. */
export function erroredRun(overrides: Partial<ErroredRun> = {}): ErroredRun {
  return { pattern: 'rest', scenario: 'baseline', trial: 1, state: 'errored', error: { code: 'PB_ERR_TEST', message: 'it broke' }, ...overrides };
}

/**
 * A fault scenario's figures: a fault from 1 s to 2 s of a 3 s window, with `recovery`
 * (omit it for an older file, which has only timeToRecoverMs).
 */
export function failure(recovery: Recovery | undefined, overrides: Partial<FailureFigures> = {}): FailureFigures {
  const timeToRecoverMs = recovery?.kind === 'recovered' ? recovery.ms : recovery?.kind === 'never-dropped' ? 0 : null;
  return {
    successRate: 0.9,
    faultWindowMs: { fromMs: 1000, toMs: 2000 },
    segments: [],
    timeToRecoverMs,
    ...(recovery ? { recovery } : {}),
    errorsByKind: {},
    compensations: 0,
    played: [],
    applied: recovery?.kind !== 'not-applied',
    ...overrides,
  };
}

/** The capacity phase of a run: one closed-loop trial per `[pattern, orders/s]`. */
export function capacityPhase(trials: readonly (readonly [string, number])[]): CapacityPhase {
  const seen = new Map<string, number>();
  return {
    concurrency: 64,
    durationMs: 1000,
    runs: trials.map(([pattern, achieved]) => {
      const trial = (seen.get(pattern) ?? 0) + 1;
      seen.set(pattern, trial);
      return { pattern, trial, state: 'completed', achieved, latencyMs: latency(5, 20), busiestThread: null };
    }),
  };
}

export { thread };
