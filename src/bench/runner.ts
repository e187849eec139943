import { EventEmitter } from 'node:events';
import { AbortedError, describeError, UnknownNameError } from '../errors.js';
import { FaultNetwork } from '../faults/network.js';
import { faultWindow, needsFaultNetwork, ScenarioPlayer, segmentsOf, surgesOf } from './player.js';
import { getScenario } from '../faults/scenarios/registry.js';
import { isProjectionStatsReporter } from '../patterns/event-sourcing/stats.js';
import { PATTERNS } from '../patterns/registry.js';
import { DIRECT_NETWORK, isThreadReporter, isBacklogReporter, isCompensationReporter, isSagaStats, isDrainable, isHopErrorCounter, isWireMetered, type Pattern, type RunningPattern } from '../patterns/types.js';
import { ThreadPool } from '../placement/pool.js';
import { seededRandom } from '../random.js';
import { mergeWorlds, OrderGenerator } from '../workflow/generator.js';
import { checkInvariants } from '../workflow/invariants.js';
import { shapeOf, type RunConfig } from './config.js';
import { runLoad, type LoadProgress } from './loadgen.js';
import { captureEnvironment, SCHEMA_VERSION, TOOL, type CompletedRun, type ResultsDocument, type RunResult } from './results.js';
import { failureFigures } from './failure.js';
import { measureSequential } from './sequential.js';
import { PlacedLog } from './placed.js';
import { warmUntilSettled } from './warmup.js';
import { busiestSystemThread, ThreadProbe, type ThreadCost } from './threads.js';

/**
 * Load before the window opens, after the warm-up, ms: the warm-up's last slice has drained
 * its orders, and the pipeline fills again before anything is recorded.
 */
const RAMP_MS = 100;

export type RunPhase = 'starting' | 'warmup' | 'load' | 'sequential' | 'drain' | 'check' | 'stopping';

interface RunRef {
  readonly pattern: string;
  readonly scenario: string;
  readonly trial: number;
  /** 1-based position among all runs, and how many there are. */
  readonly index: number;
  readonly total: number;
}

/** The runner's events: the progress display and the reports listen to these. */
export interface RunnerEvents {
  'run-start': [RunRef];
  phase: [RunRef & { readonly phase: RunPhase }];
  progress: [RunRef & LoadProgress];
  'run-end': [RunRef & { readonly result: RunResult }];
  done: [ResultsDocument];
}

export interface RunnerOptions {
  readonly signal?: AbortSignal;
}

/**
 * Runs every pattern × scenario × trial of a config, one after another, and produces the
 * results document. Each run starts the pattern fresh, drives the load, measures
 * sequential latency, drains, checks the invariants on the pattern's snapshot and stops
 * it. A pattern that throws becomes an `errored` run and the next run goes on.
 */
export class Runner extends EventEmitter<RunnerEvents> {
  private readonly patterns: readonly Pattern[];
  /** The system's threads, kept from run to run (see ThreadPool); ended when the benchmark ends. */
  private threadPool: ThreadPool | undefined;

  /** `patterns` is where pattern ids are looked up: the registry, unless a test or a library user brings its own. */
  constructor(
    readonly config: RunConfig,
    patterns: readonly Pattern[] = PATTERNS,
  ) {
    super();
    this.patterns = patterns;
  }

  async run(options: RunnerOptions = {}): Promise<ResultsDocument> {
    const { config } = this;
    const { signal } = options;
    const startedAt = new Date();
    const environment = captureEnvironment();
    const runs: RunResult[] = [];
    const plan: { pattern: string; scenario: string; trial: number }[] = [];
    for (const scenario of config.scenarios)
      for (const pattern of config.patterns)
        for (let trial = 1; trial <= config.trials; trial++) plan.push({ pattern, scenario, trial });

    try {
      for (const [i, item] of plan.entries()) {
        const ref: RunRef = { ...item, index: i + 1, total: plan.length };
        if (signal?.aborted) {
          runs.push({ ...item, state: 'aborted' });
          continue;
        }
        this.emit('run-start', ref);
        const result = await this.runOne(ref, signal);
        runs.push(result);
        this.emit('run-end', { ...ref, result });
      }
    } finally {
      await this.threadPool?.close();
      this.threadPool = undefined;
    }

    const doc: ResultsDocument = {
      schemaVersion: SCHEMA_VERSION,
      tool: TOOL,
      environment,
      config,
      patterns: config.patterns.flatMap((id) => {
        const p = this.patterns.find((x) => x.id === id);
        if (!p) return [];
        const ownPolicy = p.describeResilience?.(config.resilience);
        return [{ id: p.id, title: p.title, summary: p.summary, tradeOffs: p.tradeOffs, resilient: p.resilient === true, ...(ownPolicy ? { ownPolicy } : {}) }];
      }),
      scenarios: config.scenarios.map((id) => {
        const s = getScenario(id);
        return { id: s.id, title: s.title, description: s.description };
      }),
      state: signal?.aborted ? 'aborted' : 'completed',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      runs,
    };
    this.emit('done', doc);
    return doc;
  }

  private pool(): ThreadPool {
    this.threadPool ??= new ThreadPool();
    return this.threadPool;
  }

  private async runOne(ref: RunRef, signal: AbortSignal | undefined): Promise<RunResult> {
    const { config } = this;
    const key = { pattern: ref.pattern, scenario: ref.scenario, trial: ref.trial };
    const phase = (p: RunPhase) => this.emit('phase', { ...ref, phase: p });
    const pattern = this.patterns.find((p) => p.id === ref.pattern);
    if (!pattern) throw new UnknownNameError('--patterns', ref.pattern, this.patterns.map((p) => p.id));
    const scenario = getScenario(ref.scenario);

    // The same seed and trial give every pattern the same world and the same orders: the
    // window's orders come from `generator` from its first, whatever the warm-up took,
    // and the warm-up's from a generator of its own, on scarce SKUs and broke customers of
    // its own, so the window starts from the same stock and balances in every pattern.
    const random = seededRandom(config.seed + (ref.trial - 1) * 1_000_003);
    const generator = new OrderGenerator(random.fork(), config.generator, `t${ref.trial}`);
    const warmGenerator = new OrderGenerator(random.fork(), config.generator, `t${ref.trial}w`, 'warm');
    const world = mergeWorlds(generator.world(), warmGenerator.world());

    let running: RunningPattern | undefined;
    let result: RunResult;
    // Fault scenarios put a proxy on every socket hop; baseline runs without them so that
    // its figures carry no proxy cost.
    const network = needsFaultNetwork(scenario) ? new FaultNetwork(random.fork()) : null;
    let player: ScenarioPlayer | undefined;
    try {
      phase('starting');
      running = await pattern.start({
        world,
        random: random.fork(),
        options: {
          broker: config.broker,
          eventStore: config.eventStore,
          queueAck: config.queueAck,
          resilience: config.resilience,
          placement: config.placement,
        },
        network: network ?? DIRECT_NETWORK,
        threads: this.pool(),
      });
      const target = running;
      const shape = config.load.kind === 'equal' ? ({ kind: 'closed', concurrency: config.load.capacityConcurrency } as const) : shapeOf(config.load, null);
      const log = new PlacedLog();
      phase('warmup');
      const warmup = await warmUntilSettled(target, shape, () => warmGenerator.next(), log, { minMs: config.warmupMs, maxMs: config.warmupMaxMs, sliceMs: config.quick ? 125 : 250 }, signal);
      phase('load');
      player = new ScenarioPlayer(scenario, target, network, RAMP_MS, config.durationMs);
      const probe = new ThreadProbe(this.pool().main, isThreadReporter(target) ? target.threads() : []);
      player.start();
      const load = await runLoad(target, {
        windowProbe: probe,
        log,
        shape,
        warmupMs: RAMP_MS,
        durationMs: config.durationMs,
        drainTimeoutMs: config.drainTimeoutMs,
        nextOrder: () => generator.next(),
        ...(signal ? { signal } : {}),
        onProgress: (p) => this.emit('progress', { ...ref, ...p }),
        surges: surgesOf(scenario, config.durationMs),
        segments: segmentsOf(scenario, config.durationMs),
      });
      // Heal the system before draining: the invariants are judged once it has recovered.
      await player.stop();
      if (load.aborted) throw new AbortedError();

      const placed = load.placed;
      // Drain right after the load: the drain time is the backlog's figure.
      if (isDrainable(target)) {
        phase('drain');
        await target.drain(config.drainTimeoutMs);
      }
      const backlog = isBacklogReporter(target) ? await target.backlog() : null;
      let sequential = null;
      // Sequential latency is a steady-state figure: measured in scenarios without faults.
      if (config.sequentialMs > 0 && scenario.steps.length === 0) {
        phase('sequential');
        sequential = await measureSequential(target, () => generator.next(), placed, config.sequentialMs, signal);
        if (isDrainable(target)) await target.drain(config.drainTimeoutMs);
      }
      phase('check');
      // The wire first: reading the state (a folded log) must not count as an order's traffic.
      const wire = isWireMetered(target) ? await target.wireStats() : null;
      const hopErrors = isHopErrorCounter(target) ? { ...(await target.hopErrors()) } : null;
      const snapshot = await target.snapshot();
      const invariants = checkInvariants({ placed: placed.orders(), accepted: placed.acceptedIds(), snapshot });
      const saga = isSagaStats(target) ? await target.sagaStats() : null;

      const threads = probe.results();
      const completed: CompletedRun = {
        ...key,
        state: 'completed',
        transport: target.transport,
        throughput: load.throughput,
        latencyMs: load.latency,
        acceptLatencyMs: load.acceptLatency,
        schedulerLatenessMs: load.schedulerLateness,
        sequential,
        outcomes: load.outcomes,
        errors: load.errors,
        cost: {
          ...load.cost,
          ...threadFigures(threads, load.outcomes.confirmed + load.outcomes.cancelled),
          bytesPerOrder: wire && placed.size > 0 ? wire.bytes / placed.size : null,
          messagesPerOrder: wire && placed.size > 0 ? wire.messages / placed.size : null,
        },
        threads,
        warmup,
        invariants,
        backlog,
        hopErrors,
        hops: network ? network.stats() : null,
        projection: isProjectionStatsReporter(target) ? await target.projectionStats() : null,
        compensationMs: isCompensationReporter(target) ? await target.compensation() : null,
        saga: saga && placed.size > 0 ? { ...saga, stepsPerOrder: saga.stepsRun / placed.size } : null,
        failure: scenario.steps.length > 0 ? failureFigures(load, faultWindow(scenario, config.durationMs), hopErrors, snapshot, player.played(), player.applied) : null,
        timeline: load.timeline,
        timelineBucketMs: load.timelineBucketMs,
        durationMs: load.windowMs,
      };
      result = completed;
    } catch (err) {
      result = err instanceof AbortedError || signal?.aborted ? { ...key, state: 'aborted' } : { ...key, state: 'errored', error: describeError(err) };
    }
    await player?.stop();
    if (running) {
      phase('stopping');
      try {
        await running.stop();
      } catch (err) {
        // A pattern that cannot release what it opened is broken, whatever it measured.
        const { code, message } = describeError(err);
        if (result.state !== 'aborted') result = { ...key, state: 'errored', error: { code, message: `stop() failed: ${message}` } };
      }
    }
    await network?.close();
    return result;
  }
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
function threadFigures(threads: readonly ThreadCost[], completed: number): Pick<CompletedRun['cost'], 'generator' | 'system'> {
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
