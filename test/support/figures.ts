/** Builders for the capacity phase, the equal load and sweeps of constructed results documents. */
import { KEEPS_UP, sweepSettings } from '../../src/bench/sweep-settings.js';
import type { CapacityPhase, CapacityRun, CompletedRun, EqualLoad, ResultsDocument, SweepCurve, SweepResult, SweepStep } from '../../src/bench/results.js';
import { completedRun, latency, resultsDoc } from './results.js';

/** One completed capacity trial: `achieved` orders/s, p99 `p99` ms, its busiest thread. */
export function capacityRun(pattern: string, achieved: number, p99 = 20, busiest: readonly [string, number] | null = ['system', 0.97], trial = 1): CapacityRun {
  return {
    pattern,
    trial,
    state: 'completed',
    achieved,
    latencyMs: latency(p99 / 4, p99),
    busiestThread: busiest ? { name: busiest[0], eventLoopUtilization: busiest[1] } : null,
  };
}

export function erroredCapacityRun(pattern: string, code: string, message: string, trial = 1): CapacityRun {
  return { pattern, trial, state: 'errored', achieved: null, latencyMs: null, busiestThread: null, error: { code, message } };
}

/** The capacity phase: 16 orders in flight for 1 s unless told otherwise. */
export function capacity(runs: readonly CapacityRun[], concurrency = 16, durationMs = 1000): CapacityPhase {
  return { concurrency, durationMs, runs };
}

/** An equal load taken from the capacity phase: 70% of `basis`. */
export function equalLoad(rate: number, basis: { pattern: string; capacity: number }, fraction = 0.7): EqualLoad {
  return { rate, source: 'capacity', fraction, basis };
}

/** A run measured open loop at `rate`. */
export function runAt(rate: number, overrides: Partial<CompletedRun> = {}): CompletedRun {
  return completedRun({ throughput: { target: rate, offered: rate, achieved: rate }, ...overrides });
}

/**
 * The document of a default run: saga-orchestration was the slowest at 589 orders/s, so
 * every pattern ran at 412 orders/s (70%).
 */
export function equalLoadDoc(runs: readonly CompletedRun[] = [runAt(412), runAt(412, { pattern: 'saga-orchestration' })]): ResultsDocument {
  return {
    ...resultsDoc(runs),
    capacity: capacity([capacityRun('rest', 2000, 12, ['system', 0.98]), capacityRun('saga-orchestration', 589, 48, ['orchestrator', 0.99])]),
    equalLoad: equalLoad(412, { pattern: 'saga-orchestration', capacity: 589 }),
  };
}

/** A sweep step at `rate`: what it achieved, its p50/p99 and success, judged against `sloMs` as the Sweeper judges. */
export function step(rate: number, achieved: number, p50: number, p99: number, successRate = 1, sloMs = 50): SweepStep {
  return { rate, offered: rate, achieved, latencyMs: latency(p50, p99), successRate, keepsUp: achieved >= KEEPS_UP * rate, withinSlo: p99 <= sloMs };
}

/** A completed curve: its knee is the highest step that kept up within the SLO. */
export function curve(pattern: string, steps: readonly SweepStep[], stoppedBy: SweepCurve['stoppedBy'], probe: number | null = 400): SweepCurve {
  const held = steps.filter((s) => s.keepsUp && s.withinSlo).map((s) => s.rate);
  return {
    pattern,
    state: 'completed',
    probe,
    steps,
    knee: held.length > 0 ? Math.max(...held) : null,
    stoppedBy,
    invariants: completedRun().invariants,
  };
}

/** A sweep's results document: no runs, the curves. */
export function sweepDoc(curves: readonly SweepCurve[], sweep: Partial<SweepResult> = {}): ResultsDocument {
  const patterns = curves.map((c) => c.pattern);
  const base = resultsDoc([], { patterns, scenarios: ['baseline'] });
  const settings = { ...sweepSettings(sweep.sloMs ?? 50, false), ...(sweep.stepMs === undefined ? {} : { stepMs: sweep.stepMs }) };
  return {
    ...base,
    config: { ...base.config, load: { kind: 'sweep', settings } },
    patterns: patterns.map((id) => ({ id, title: `${id} title`, summary: `${id} summary`, tradeOffs: { pros: ['fast'], cons: ['slow'], whenToUse: 'sometimes' }, resilient: false })),
    sweep: { sloMs: settings.sloMs, stepMs: settings.stepMs, factor: settings.factor, curves, ...sweep },
  };
}
