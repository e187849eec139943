import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AbortedError, describeError, UnknownNameError } from '../errors.js';
import { PATTERNS } from '../patterns/registry.js';
import { isDrainable, packedStateOf, type Pattern, type RunningPattern } from '../patterns/types.js';
import { ThreadPool } from '../placement/pool.js';
import { checkInvariants, countsOf } from '../workflow/invariants.js';
import type { OrderGenerator } from '../workflow/generator.js';
import type { RunConfig } from './config.js';
import { runLoad, type LoadResult } from './loadgen.js';
import { PlacedLog } from './placed.js';
import { captureEnvironment, SCHEMA_VERSION, TOOL, type ResultsDocument, type SweepCurve, type SweepResult, type SweepStep } from './results.js';
import { coldSettleOptions, patternCards } from './runner.js';
import { startRun } from './start.js';
import { KEEPS_UP, type SweepSettings } from './sweep-settings.js';
import { warmUntilSettled } from './warmup.js';

export interface SweepEvents {
  'pattern-start': [{ readonly pattern: string; readonly index: number; readonly total: number }];
  probe: [{ readonly pattern: string; readonly rate: number }];
  step: [{ readonly pattern: string; readonly step: SweepStep }];
  curve: [SweepCurve];
}

/** What a step is judged on: the figures of its load. */
export type StepLoad = Pick<LoadResult, 'outcomes' | 'throughput' | 'latency'>;

/**
 * The step's figures, judged against the rate asked for (not what the generator managed
 * to offer: a generator that fell behind must not hide a miss) and the SLO.
 */
export function stepOf(rate: number, load: StepLoad, sloMs: number): SweepStep {
  const { placed, confirmed, cancelled } = load.outcomes;
  const achieved = load.throughput.achieved;
  return {
    rate,
    offered: load.throughput.offered ?? rate,
    achieved,
    latencyMs: load.latency,
    successRate: placed === 0 ? 0 : (confirmed + cancelled) / placed,
    keepsUp: achieved >= KEEPS_UP * rate,
    withinSlo: load.latency.p99 <= sloMs,
  };
}

/** The knee: the highest rate that kept up within the SLO; null when none did. */
export function kneeOf(steps: readonly SweepStep[]): number | null {
  let knee: number | null = null;
  for (const s of steps) if (s.keepsUp && s.withinSlo && (knee === null || s.rate > knee)) knee = s.rate;
  return knee;
}

/** Whole orders/s, at least 1. */
const wholeRate = (r: number) => Math.max(1, Math.round(r));

/** Why a sequence of steps ended by itself (a thrown error or an abort ends it otherwise). */
export type StopReason = Exclude<SweepCurve['stoppedBy'], 'error' | 'aborted'>;

/** Measures one open-loop step at `rate` orders/s: real load in a Sweeper, constructed figures in a test. */
export type MeasureStep = (rate: number) => Promise<SweepStep>;

/** The settings the step sequence follows. */
export type StepRule = Pick<SweepSettings, 'startFraction' | 'factor' | 'maxSteps' | 'budgetMs'>;

/** `saturated` when the step fell behind, `slo` when it kept up but its p99 broke the SLO, null when it held. */
function missOf(step: SweepStep): 'saturated' | 'slo' | null {
  if (!step.keepsUp) return 'saturated';
  return step.withinSlo ? null : 'slo';
}

/**
 * One pattern's steps, pushed into `steps` (kept there when `measure` throws) and sorted by
 * rate: from `startFraction` × the probe, each rate the last one's × `factor` (whole
 * orders/s, and at least 1 more), until a step misses, `maxSteps` steps have held, or `budgetMs` has passed on
 * `now` since the first step began (checked after each step: no step starts past the
 * budget). After a miss within the budget, one refinement step; resolves with why it stopped.
 */
export async function sweepSteps(probe: number, rule: StepRule, measure: MeasureStep, steps: SweepStep[], now: () => number = () => performance.now()): Promise<StopReason> {
  const began = now();
  let rate = wholeRate(Math.max(1, probe) * rule.startFraction);
  for (;;) {
    const step = await measure(rate);
    steps.push(step);
    const missed = missOf(step);
    const overTime = now() - began >= rule.budgetMs;
    if (missed) {
      if (!overTime) await refine(steps, rate, measure);
      return missed;
    }
    if (steps.length >= rule.maxSteps) return 'steps';
    if (overTime) return 'time';
    // At 1 order/s, × √2 rounds back to 1: the next step is always at least 1 more.
    rate = Math.max(rate + 1, wholeRate(rate * rule.factor));
  }
}

/**
 * After a miss at `missedRate`: one more step halfway (geometric mean, whole orders/s)
 * between the last step that held and it, when such a rate lies strictly between; none
 * when no step held.
 */
async function refine(steps: SweepStep[], missedRate: number, measure: MeasureStep): Promise<void> {
  const held = steps.filter((s) => s.keepsUp && s.withinSlo).at(-1);
  if (!held) return;
  const between = wholeRate(Math.sqrt(held.rate * missedRate));
  if (between <= held.rate || between >= missedRate) return;
  steps.push(await measure(between));
  steps.sort((a, b) => a.rate - b.rate);
}

/**
 * `pattern-bench sweep`: for each pattern, a closed-loop probe sets the scale, then the
 * offered rate steps up geometrically (open loop, `factor` a step) from `startFraction` of
 * the probe until a step misses (achieved < 95% of the rate, or p99 above the SLO), the
 * step limit, or the pattern's time budget. After a miss, one more step halfway (geometric
 * mean) between the last step that held and the first that missed places the knee closer.
 * The invariants are checked on the pattern's state at the end.
 */
export class Sweeper extends EventEmitter<SweepEvents> {
  private threadPool: ThreadPool | undefined;

  constructor(
    readonly config: RunConfig,
    readonly settings: SweepSettings,
    private readonly patterns: readonly Pattern[] = PATTERNS,
  ) {
    super();
  }

  async run(signal?: AbortSignal): Promise<ResultsDocument> {
    const startedAt = new Date();
    const environment = captureEnvironment();
    const curves: SweepCurve[] = [];
    try {
      for (const [i, id] of this.config.patterns.entries()) {
        if (signal?.aborted) {
          curves.push({ pattern: id, state: 'aborted', probe: null, steps: [], knee: null, stoppedBy: 'aborted', invariants: null });
          continue;
        }
        this.emit('pattern-start', { pattern: id, index: i + 1, total: this.config.patterns.length });
        const curve = await this.sweepOne(id, signal);
        curves.push(curve);
        this.emit('curve', curve);
      }
    } finally {
      await this.threadPool?.close();
      this.threadPool = undefined;
    }
    const { sloMs, stepMs, factor } = this.settings;
    const sweep: SweepResult = { sloMs, stepMs, factor, curves };
    return {
      schemaVersion: SCHEMA_VERSION,
      tool: TOOL,
      environment,
      config: this.config,
      patterns: patternCards(this.config, this.patterns),
      scenarios: [],
      state: signal?.aborted ? 'aborted' : 'completed',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      runs: [],
      sweep,
    };
  }

  private pool(): ThreadPool {
    this.threadPool ??= new ThreadPool({ topology: this.config.topology });
    return this.threadPool;
  }

  private async sweepOne(id: string, signal: AbortSignal | undefined): Promise<SweepCurve> {
    const pattern = this.patterns.find((p) => p.id === id);
    if (!pattern) throw new UnknownNameError('--patterns', id, this.patterns.map((p) => p.id));
    let running: RunningPattern | undefined;
    const steps: SweepStep[] = [];
    let probe: number | null = null;
    let curve: SweepCurve;
    try {
      // A sweep's invariants are counted, never explained: its services keep no journal (see ThreadPool.journal).
      this.pool().journal = false;
      const started = await startRun(pattern, this.config, 1, false, this.pool());
      running = started.running;
      const log = new PlacedLog();
      probe = await this.probe(running, started.warmGenerator, started.generator, log, signal);
      this.emit('probe', { pattern: id, rate: probe });
      const stoppedBy = await this.step(id, running, started.generator, log, probe, steps, signal);
      if (isDrainable(running)) await running.drain(this.config.drainTimeoutMs);
      const snapshot = await packedStateOf(running);
      const invariants = countsOf(checkInvariants({ placed: log.eachOrder(), accepted: log.acceptedLookup(), snapshot }));
      curve = { pattern: id, state: 'completed', probe, steps, knee: kneeOf(steps), stoppedBy, invariants };
    } catch (err) {
      const aborted = err instanceof AbortedError || signal?.aborted === true;
      curve = aborted
        ? { pattern: id, state: 'aborted', probe, steps, knee: kneeOf(steps), stoppedBy: 'aborted', invariants: null }
        : { pattern: id, state: 'errored', probe, steps, knee: kneeOf(steps), stoppedBy: 'error', invariants: null, error: describeError(err) };
    }
    try {
      await running?.stop();
    } catch (err) {
      if (curve.state === 'completed') curve = { ...curve, state: 'errored', stoppedBy: 'error', error: describeError(err) };
    }
    return curve;
  }

  /** Warm up and measure the closed-loop probe: the scale of the first step, orders/s. */
  private async probe(target: RunningPattern, warm: OrderGenerator, gen: OrderGenerator, log: PlacedLog, signal: AbortSignal | undefined): Promise<number> {
    const { config, settings } = this;
    const shape = { kind: 'closed', concurrency: settings.probeConcurrency } as const;
    await warmUntilSettled(target, shape, () => warm.next(), log, coldSettleOptions(config), signal);
    const load = await runLoad(target, { shape, warmupMs: 0, durationMs: settings.probeMs, nextOrder: () => gen.next(), log, drainTimeoutMs: config.drainTimeoutMs, ...(signal ? { signal } : {}) });
    if (load.aborted) throw new AbortedError();
    return load.throughput.achieved;
  }

  /** The steps, into `steps` in rate order, each measured under real load; resolves with why they stopped. */
  private async step(
    id: string,
    target: RunningPattern,
    gen: OrderGenerator,
    log: PlacedLog,
    probe: number,
    steps: SweepStep[],
    signal: AbortSignal | undefined,
  ): Promise<StopReason> {
    const { settings } = this;
    const measure = async (rate: number) => {
      const load = await runLoad(target, {
        shape: { kind: 'open', rate, maxInFlight: Math.max(64, Math.ceil(rate)) },
        warmupMs: settings.rampMs,
        durationMs: settings.stepMs,
        drainTimeoutMs: this.config.drainTimeoutMs,
        nextOrder: () => gen.next(),
        log,
        ...(signal ? { signal } : {}),
      });
      if (load.aborted) throw new AbortedError();
      if (isDrainable(target)) await target.drain(this.config.drainTimeoutMs);
      const step = stepOf(rate, load, settings.sloMs);
      this.emit('step', { pattern: id, step });
      return step;
    };
    return sweepSteps(probe, settings, measure, steps);
  }
}
