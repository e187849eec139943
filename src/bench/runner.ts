import { EventEmitter } from 'node:events';
import { AbortedError, describeError, UnknownNameError } from '../errors.js';
import { faultWindow, needsFaultNetwork, ScenarioPlayer, segmentsOf, surgesOf } from './player.js';
import type { Scenario } from '../faults/scenarios/types.js';
import { getScenario } from '../faults/scenarios/registry.js';
import { isProjectionStatsReporter } from '../patterns/event-sourcing/stats.js';
import { PATTERNS } from '../patterns/registry.js';
import {
  isThreadReporter,
  isBacklogReporter,
  isCompensationReporter,
  isSagaStats,
  isDrainable,
  isHopErrorCounter,
  isOrderReader,
  isWireMetered,
  packedStateOf,
  type Pattern,
  type RunningPattern,
} from '../patterns/types.js';
import { collectGarbage } from '../placement/gc.js';
import { ThreadPool } from '../placement/pool.js';
import { whereName } from '../placement/types.js';
import { checkInvariants, countsOf } from '../workflow/invariants.js';
import { unpackSnapshot } from '../workflow/packed-snapshot.js';
import { DEFAULTS, shapeOf, type LoadModel, type RunConfig } from './config.js';
import { chooseEqualLoad } from './equal-load.js';
import { runLoad, type LoadProgress, type LoadResult, type LoadShape, type ReadMix, type ReadResult } from './loadgen.js';
import {
  captureEnvironment,
  SCHEMA_VERSION,
  TOOL,
  type CapacityPhase,
  type CapacityRun,
  type CompletedRun,
  type EqualLoad,
  type PatternCard,
  type ResultsDocument,
  type RunReads,
  type RunResult,
} from './results.js';
import { startRun, type StartedRun } from './start.js';
import { failureFigures } from './failure.js';
import { measureSequential } from './sequential.js';
import { PlacedLog } from './placed.js';
import { explainViolations, offendingOrders } from './violations.js';
import { warmUntilSettled, type SettleOptions } from './warmup.js';
import { RunTracer } from './run-traces.js';
import { seededRandom } from '../random.js';
import { busiestSystemThread, ThreadProbe, type ThreadCost } from './threads.js';

/** Load before the window opens, after the warm-up, ms (DEFAULTS.rampMs): the warm-up's last slice has drained its orders. */
const rampMs = (config: RunConfig): number => (config.quick ? DEFAULTS.quick.rampMs : DEFAULTS.rampMs);

export type RunPhase = 'starting' | 'warmup' | 'load' | 'sequential' | 'drain' | 'check' | 'stopping';

/** `capacity`: the closed loop that saturates a pattern (equal load's first phase); `load`: a measured run. */
export type RunStage = 'capacity' | 'load';

export interface RunRef {
  readonly stage: RunStage;
  readonly pattern: string;
  readonly scenario: string;
  readonly trial: number;
  /** 1-based position among all runs of both stages, and how many there are. */
  readonly index: number;
  readonly total: number;
}

/** The runner's events: the progress display and the reports listen to these. */
export interface RunnerEvents {
  'run-start': [RunRef];
  phase: [RunRef & { readonly phase: RunPhase }];
  progress: [RunRef & LoadProgress];
  'run-end': [RunRef & { readonly result: RunResult }];
  /** Equal load: the rate chosen from the capacities, before the measured runs start. */
  'equal-load': [EqualLoad];
  done: [ResultsDocument];
}

export interface RunnerOptions {
  readonly signal?: AbortSignal;
}

/** What one run does: its scenario, load shape and window. */
interface RunSpec {
  readonly scenario: Scenario;
  readonly shape: LoadShape;
  readonly durationMs: number;
  /** Measure sequential latency afterwards (steady-state runs only). */
  readonly sequential: boolean;
  /** Warm up until throughput stops climbing, within these bounds. */
  readonly warmup: SettleOptions;
}

type PlanItem = { readonly pattern: string; readonly scenario: string; readonly trial: number };

/**
 * The measured runs in the order they run: per scenario, trial 1 of every pattern, then
 * trial 2, and so on (round-robin), so that a drift of the machine over the benchmark
 * spreads over every pattern instead of landing on the last one's trials.
 */
export function interleave(patterns: readonly string[], scenarios: readonly string[], trials: number): PlanItem[] {
  const plan: PlanItem[] = [];
  for (const scenario of scenarios)
    for (let trial = 1; trial <= trials; trial++) for (const pattern of patterns) plan.push({ pattern, scenario, trial });
  return plan;
}

/**
 * Runs a config and produces the results document. Under the default load model, first
 * each pattern's capacity (a short closed loop that saturates it), then every pattern ×
 * scenario × trial open loop at one rate for all: a share of the slowest capacity. Each
 * run starts the pattern fresh, warms it up, drives the load, measures sequential latency,
 * drains, checks the invariants on the pattern's snapshot and stops it. A pattern that
 * throws becomes an `errored` run and the next run goes on.
 */
export class Runner extends EventEmitter<RunnerEvents> {
  private readonly patterns: readonly Pattern[];
  /** The system's threads, kept from run to run (see ThreadPool); ended when the benchmark ends. */
  private threadPool: ThreadPool | undefined;
  /** Journeys for the report, and `--trace-sample`'s sampling (see RunTracer). */
  readonly tracer: RunTracer;

  /** `patterns` is where pattern ids are looked up: the registry, unless a test or a library user brings its own. */
  constructor(
    readonly config: RunConfig,
    patterns: readonly Pattern[] = PATTERNS,
  ) {
    super();
    this.patterns = patterns;
    this.tracer = new RunTracer(config.traceSample, config.otlp !== null);
  }

  async run(options: RunnerOptions = {}): Promise<ResultsDocument> {
    const { config } = this;
    const { signal } = options;
    const startedAt = new Date();
    const environment = captureEnvironment();
    const plan = interleave(config.patterns, config.scenarios, config.trials);
    const capacityCount = config.load.kind === 'equal' ? config.patterns.length : 0;
    const total = capacityCount + plan.length;
    let capacity: CapacityPhase | undefined;
    let equalLoad: EqualLoad | undefined;
    const runs: RunResult[] = [];
    try {
      if (config.load.kind === 'equal') {
        capacity = await this.capacityPhase(config.load, total, signal);
        if (!signal?.aborted) {
          equalLoad = chooseEqualLoad(config.load, capacity);
          if (equalLoad) this.emit('equal-load', equalLoad);
        }
      } else equalLoad = chooseEqualLoad(config.load, undefined);
      for (const [i, item] of plan.entries()) {
        const ref: RunRef = { stage: 'load', ...item, index: capacityCount + i + 1, total };
        if (signal?.aborted) {
          runs.push({ ...item, state: 'aborted' });
          continue;
        }
        const scenario = getScenario(item.scenario);
        const spec: RunSpec = { scenario, shape: shapeOf(config.load, equalLoad?.rate ?? null), durationMs: config.durationMs, sequential: scenario.steps.length === 0, warmup: settleOptions(config) };
        runs.push(await this.measured(ref, spec, signal));
      }
    } finally {
      await this.threadPool?.close();
      this.threadPool = undefined;
    }
    const traces = this.tracer.section();

    const doc: ResultsDocument = {
      schemaVersion: SCHEMA_VERSION,
      tool: TOOL,
      environment,
      config,
      patterns: patternCards(config, this.patterns),
      scenarios: config.scenarios.map((id) => {
        const s = getScenario(id);
        return { id: s.id, title: s.title, description: s.description };
      }),
      state: signal?.aborted ? 'aborted' : 'completed',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      runs,
      ...(capacity ? { capacity } : {}),
      ...(equalLoad ? { equalLoad } : {}),
      ...(traces ? { traces } : {}),
    };
    this.emit('done', doc);
    return doc;
  }

  /** Equal load's first phase: each pattern's closed-loop capacity, in the baseline scenario. */
  private async capacityPhase(model: Extract<LoadModel, { kind: 'equal' }>, total: number, signal: AbortSignal | undefined): Promise<CapacityPhase> {
    const scenario = getScenario('baseline');
    const spec: RunSpec = { scenario, shape: { kind: 'closed', concurrency: model.capacityConcurrency }, durationMs: model.capacityMs, sequential: false, warmup: capacitySettleOptions(model, this.config) };
    const runs: CapacityRun[] = [];
    for (const [i, pattern] of this.config.patterns.entries()) {
      const ref: RunRef = { stage: 'capacity', pattern, scenario: scenario.id, trial: 1, index: i + 1, total };
      if (signal?.aborted) {
        runs.push({ pattern, trial: 1, state: 'aborted', achieved: null, latencyMs: null, busiestThread: null });
        continue;
      }
      runs.push(capacityRun(await this.measured(ref, spec, signal)));
    }
    return { concurrency: model.capacityConcurrency, durationMs: model.capacityMs, runs };
  }

  /** One run, with its events. */
  private async measured(ref: RunRef, spec: RunSpec, signal: AbortSignal | undefined): Promise<RunResult> {
    this.emit('run-start', ref);
    const result = await this.runOne(ref, spec, signal);
    this.emit('run-end', { ...ref, result });
    return result;
  }

  private pool(): ThreadPool {
    this.threadPool ??= new ThreadPool({ topology: this.config.topology });
    return this.threadPool;
  }

  private async runOne(ref: RunRef, spec: RunSpec, signal: AbortSignal | undefined): Promise<RunResult> {
    const key = { pattern: ref.pattern, scenario: ref.scenario, trial: ref.trial };
    const phase = (p: RunPhase) => this.emit('phase', { ...ref, phase: p });
    const pattern = this.patterns.find((p) => p.id === ref.pattern);
    if (!pattern) throw new UnknownNameError('--patterns', ref.pattern, this.patterns.map((p) => p.id));
    let started: StartedRun | undefined;
    let player: ScenarioPlayer | undefined;
    let result: RunResult;
    try {
      phase('starting');
      // A capacity run's violations are counted, not explained: its services keep no journal, which would only cost it throughput.
      this.pool().journal = ref.stage !== 'capacity';
      started = await startRun(pattern, this.config, ref.trial, needsFaultNetwork(spec.scenario), this.pool());
      player = new ScenarioPlayer(spec.scenario, started.running, started.network, rampMs(this.config), spec.durationMs);
      result = await this.drive(key, started, player, spec, phase, ref, signal);
    } catch (err) {
      result = err instanceof AbortedError || signal?.aborted ? { ...key, state: 'aborted' } : { ...key, state: 'errored', error: describeError(err) };
    }
    await player?.stop();
    await this.tracer.settle(this.pool());
    if (started) {
      phase('stopping');
      try {
        await started.running.stop();
      } catch (err) {
        // A pattern that cannot release what it opened is broken, whatever it measured.
        const { code, message } = describeError(err);
        if (result.state !== 'aborted') result = { ...key, state: 'errored', error: { code, message: `stop() failed: ${message}` } };
      }
      await started.network?.close();
    }
    // The run's state (its log, snapshot, the stopped system) is unreachable now: collect it before the next run starts.
    collectGarbage();
    return result;
  }

  /** Warm up, load, drain, measure sequentially, check: one started run's figures. */
  private async drive(
    key: PlanItem,
    started: StartedRun,
    player: ScenarioPlayer,
    spec: RunSpec,
    phase: (p: RunPhase) => void,
    ref: RunRef,
    signal: AbortSignal | undefined,
  ): Promise<CompletedRun> {
    const { config } = this;
    const { running: target, generator, warmGenerator } = started;
    const log = new PlacedLog();
    phase('warmup');
    const warm = () => warmGenerator.next();
    // A pattern's first measured run traces a few orders for the report, as the run placed it, beside its warm-up.
    const journeys = ref.stage === 'load' && this.tracer.wantsJourneys(ref.pattern) ? await this.tracer.placeJourneyOrders(target, started.journeyOrders(), log, this.pool()) : null;
    const warmup = await warmUntilSettled(target, spec.shape, warm, log, spec.warmup, signal);
    if (journeys) await this.tracer.finishJourneys(ref.pattern, whereName(config.placement, config.topology), journeys, this.pool());
    phase('load');
    const measuredTarget = ref.stage === 'load' ? await this.tracer.measuredTarget(target, this.pool(), seededRandom(config.seed + ref.index * 7_919)) : target;
    const probe = new ThreadProbe(this.pool().main, isThreadReporter(target) ? target.threads() : []);
    player.start();
    const load = await runLoad(measuredTarget, {
      windowProbe: probe,
      log,
      shape: spec.shape,
      warmupMs: rampMs(config),
      durationMs: spec.durationMs,
      drainTimeoutMs: config.drainTimeoutMs,
      nextOrder: () => generator.next(),
      ...(signal ? { signal } : {}),
      onProgress: (p) => this.emit('progress', { ...ref, ...p }),
      surges: surgesOf(spec.scenario, spec.durationMs),
      segments: segmentsOf(spec.scenario, spec.durationMs),
      ...readsOf(config, ref, target),
    });
    // Heal the system before draining: the invariants are judged once it has recovered.
    await player.stop();
    if (load.aborted) throw new AbortedError();
    // Drain right after the load: the drain time is the backlog's figure.
    if (isDrainable(target)) {
      phase('drain');
      await target.drain(config.drainTimeoutMs);
    }
    await this.tracer.finishMeasured(key, measuredTarget, this.pool());
    const backlog = isBacklogReporter(target) ? await target.backlog() : null;
    let sequential = null;
    // Sequential latency is a steady-state figure: measured in scenarios without faults.
    if (config.sequentialMs > 0 && spec.sequential) {
      phase('sequential');
      sequential = await measureSequential(target, () => generator.next(), load.placed, config.sequentialMs, signal);
      if (isDrainable(target)) await target.drain(config.drainTimeoutMs);
    }
    phase('check');
    return this.figures(key, started, load, probe, player, spec, { warmup, backlog, sequential });
  }

  /** Read the run's state and fold everything into its result. */
  private async figures(
    key: PlanItem,
    started: StartedRun,
    load: LoadResult,
    probe: ThreadProbe,
    player: ScenarioPlayer,
    spec: RunSpec,
    measured: Pick<CompletedRun, 'warmup' | 'backlog' | 'sequential'>,
  ): Promise<CompletedRun> {
    const { running: target, network } = started;
    const placed = load.placed;
    // The wire first: reading the state (a folded log) must not count as an order's traffic.
    const wire = isWireMetered(target) ? await target.wireStats() : null;
    const hopErrors = isHopErrorCounter(target) ? { ...(await target.hopErrors()) } : null;
    // Packed: no object per record on either thread (direct's capacity run holds a few hundred thousand orders).
    const snapshot = await packedStateOf(target);
    const checked = checkInvariants({ placed: placed.eachOrder(), accepted: placed.acceptedLookup(), snapshot });
    const offenders = offendingOrders(checked);
    const violations = checked.offenders ? explainViolations(checked, placed.records(offenders), unpackSnapshot(snapshot, new Set(offenders))) : [];
    const saga = isSagaStats(target) ? await target.sagaStats() : null;
    const threads = await probe.results();
    return {
      ...key,
      state: 'completed',
      transport: target.transport,
      throughput: load.throughput,
      latencyMs: load.latency,
      reads: load.reads ? runReads(load.reads) : null,
      latencyHistogram: load.latencyHistogram,
      failedLatencyMs: load.failedLatency,
      completedInWindow: load.completedInWindow,
      acceptLatencyMs: load.acceptLatency,
      schedulerLatenessMs: load.schedulerLateness,
      sequential: measured.sequential,
      outcomes: load.outcomes,
      errors: load.errors,
      cost: {
        ...load.cost,
        ...threadFigures(threads, load.completedInWindow),
        bytesPerOrder: wire && placed.size > 0 ? wire.bytes / placed.size : null,
        messagesPerOrder: wire && placed.size > 0 ? wire.messages / placed.size : null,
      },
      threads,
      warmup: measured.warmup,
      invariants: countsOf(checked),
      ...(violations.length > 0 ? { violations } : {}),
      backlog: measured.backlog,
      hopErrors,
      hops: network ? network.stats() : null,
      projection: isProjectionStatsReporter(target) ? await target.projectionStats() : null,
      compensationMs: isCompensationReporter(target) ? await target.compensation() : null,
      saga: saga && placed.size > 0 ? { stepsRun: saga.stepsRun, resumed: saga.resumed, stepsPerOrder: saga.stepsRun / placed.size } : null,
      failure:
        spec.scenario.steps.length > 0
          ? failureFigures(load, faultWindow(spec.scenario, spec.durationMs), hopErrors, snapshot, player.played(), player.applied)
          : null,
      timeline: load.timeline,
      timelineBucketMs: load.timelineBucketMs,
      durationMs: load.windowMs,
    };
  }
}

/**
 * How a measured run's warm-up decides throughput has settled: two 100 ms slices against the
 * two before, from `--warmup` to its bound. A measured run follows its pattern's capacity run
 * on warm threads: it only fills the open loop's pipeline, which 100 ms slices judge as well
 * as 200 ms ones did (they took 14.6–16.8 s of the default run's warm-ups, these ~10 s).
 */
export function settleOptions(config: RunConfig): SettleOptions {
  return { minMs: config.warmupMs, maxMs: config.warmupMaxMs, sliceMs: 100, window: 2 };
}

/**
 * A closed loop on a pattern's first run on its threads (sweep's probe): judged on the
 * capacity run's slices (the JIT climbs), within the measured runs' bounds.
 */
export function coldSettleOptions(config: RunConfig): SettleOptions {
  return { minMs: config.warmupMs, maxMs: config.warmupMaxMs, ...settleSlices(config) };
}

/**
 * The capacity run's warm-up settles too: each pattern's capacity run is the first run of its
 * code on its threads, and a saturating closed loop climbs for 1–3 s while the JIT compiles
 * (rest from ~1,000 to ~2,300 orders/s), so a fixed warm-up measured a point on that climb.
 */
export function capacitySettleOptions(model: Extract<LoadModel, { kind: 'equal' }>, config: RunConfig): SettleOptions {
  return { minMs: model.capacityWarmupMs, maxMs: model.capacityWarmupMaxMs, ...settleSlices(config) };
}

function settleSlices(config: RunConfig): Pick<SettleOptions, 'sliceMs' | 'window'> {
  return { sliceMs: config.quick ? 100 : 200, window: 2 };
}

/** The patterns of a run, described for the reports (which read these, not the registry). */
export function patternCards(config: RunConfig, patterns: readonly Pattern[]): PatternCard[] {
  return config.patterns.flatMap((id) => {
    const p = patterns.find((x) => x.id === id);
    if (!p) return [];
    const ownPolicy = p.describeResilience?.(config.resilience);
    return [
      { id: p.id, title: p.title, summary: p.summary, tradeOffs: p.tradeOffs, resilient: p.resilient === true, ...(ownPolicy ? { ownPolicy } : {}), ...(p.optIn ? { optIn: p.optIn } : {}), ...(p.readPath ? { readPath: p.readPath } : {}) },
    ];
  });
}

/** The load's reads as results.json keeps them. */
function runReads(reads: ReadResult): RunReads {
  const { checked, stale, unresolved, reReads, readErrors, timeToConsistency } = reads.consistency;
  return {
    placed: reads.placed,
    completed: reads.completed,
    failed: reads.failed,
    perSecond: reads.perSecond,
    latencyMs: reads.latency,
    consistency: { checked, stale, unresolved, reReads, readErrors, timeToConsistencyMs: timeToConsistency },
  };
}

/**
 * The mixed workload of a measured run (`--read-share`): reads of the pattern's own read
 * side, drawn from a stream of the run's seed. Capacity runs and warm-ups place orders only.
 */
function readsOf(config: RunConfig, ref: RunRef, target: RunningPattern): { reads?: ReadMix } {
  if (config.readShare <= 0 || ref.stage !== 'load') return {};
  if (!isOrderReader(target)) throw new Error(`--read-share: ${ref.pattern} has no read side (OrderReader)`);
  return { reads: { share: config.readShare, random: seededRandom(config.seed + ref.index * 7_919 + 1).fork(), read: (customerId) => target.customerOrders(customerId) } };
}

/** A capacity run's figures, from the run. */
function capacityRun(result: RunResult): CapacityRun {
  const base = { pattern: result.pattern, trial: result.trial };
  if (result.state === 'completed') {
    return { ...base, state: 'completed', achieved: result.throughput.achieved, latencyMs: result.latencyMs, busiestThread: result.cost.system.busiestThread, invariants: result.invariants, warmup: result.warmup };
  }
  return { ...base, state: result.state, achieved: null, latencyMs: null, busiestThread: null, ...(result.state === 'errored' ? { error: result.error } : {}) };
}

/** Run a whole benchmark: the library's entry point. */
export function runBenchmark(config: RunConfig, options: RunnerOptions = {}): Promise<ResultsDocument> {
  return new Runner(config).run(options);
}

/**
 * Cost per thread, folded into the run's cost figures: the load generator's busy share and
 * CPU per order, the system's CPU per order (its threads' CPU; null when it shares the
 * generator's thread or the platform does not tell one thread's CPU) and its busiest thread.
 */
export function threadFigures(threads: readonly ThreadCost[], completed: number): Pick<CompletedRun['cost'], 'generator' | 'system'> {
  const perOrder = (ms: number | null) => (ms === null || completed === 0 ? null : (ms * 1000) / completed);
  const main = threads.find((t) => t.role !== 'system');
  const system = threads.filter((t) => t.role === 'system');
  const shared = main?.role === 'generator+system';
  const systemCpu = shared || system.some((t) => t.cpuMs === null) ? null : system.reduce((sum, t) => sum + (t.cpuMs ?? 0), 0);
  const busiest = busiestSystemThread(threads);
  return {
    generator: { thread: main?.name ?? 'main', eventLoopUtilization: main?.eventLoopUtilization ?? 0, cpuMicrosPerOrder: shared ? null : perOrder(main?.cpuMs ?? null) },
    system: {
      sharesGeneratorThread: shared,
      cpuMicrosPerOrder: perOrder(systemCpu),
      busiestThread: busiest ? { name: busiest.name, eventLoopUtilization: busiest.eventLoopUtilization } : null,
    },
  };
}
