import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConflictingOptionsError, InvalidOptionError, OutputNotWritableError, UnknownNameError } from '../errors.js';
import { DEFAULT_SCENARIOS, SCENARIOS } from '../faults/scenarios/registry.js';
import { DEFAULT_PATTERNS, PATTERNS } from '../patterns/registry.js';
import { DEFAULT_PLACEMENT, DEFAULT_TOPOLOGY, isPlacement, isTopology, PLACEMENTS, placementsFor, TOPOLOGIES, type Placement, type Topology } from '../placement/types.js';
import { otlpEndpoint } from '../tracing/otlp.js';
import type { LoadShape } from './loadgen.js';
import { sweepSettings, type SweepSettings } from './sweep-settings.js';

/** A validated run configuration. Times in ms. Written whole into results.json. */
export interface RunConfig {
  readonly patterns: readonly string[];
  readonly scenarios: readonly string[];
  readonly durationMs: number;
  /** The warm-up's least length (`--warmup`); it goes on until throughput settles, up to `warmupMaxMs`. */
  readonly warmupMs: number;
  readonly warmupMaxMs: number;
  readonly load: LoadModel;
  readonly trials: number;
  readonly seed: number;
  readonly quick: boolean;
  /** Time budget of the sequential (tinybench) measurement per run; 0 skips it. */
  readonly sequentialMs: number;
  /** How long to wait for in-flight orders and asynchronous work after the window. */
  readonly drainTimeoutMs: number;
  readonly generator: { readonly outOfStockShare: number; readonly declineShare: number };
  /** `embedded` or an amqp:// URL. */
  readonly broker: string;
  /** `memory` or a postgres:// URL. */
  readonly eventStore: string;
  /** Where every part of the system under test runs, the same for every pattern. */
  readonly placement: Placement;
  /** `--topology`: `threads` (this process) or `processes` (each part a child process; placement per-service). Absent in older files: threads. */
  readonly topology: Topology;
  /** Queue consumers' acks: `manual` (at-least-once) or `auto` (noAck, the teaching toggle). */
  readonly queueAck: 'manual' | 'auto';
  /** Resilience policy of the synchronous hops: `default` (timeouts, retries, breaker) or `none`. */
  readonly resilience: 'none' | 'default';
  /** Parent folder of the timestamped results folder; null writes nothing. */
  readonly outDir: string | null;
  /** `--trace-sample`: the share of measured orders traced, 0 to 1 (0: only a few orders per pattern, traced before measuring). */
  readonly traceSample: number;
  /** `--otlp`: the OTLP/HTTP endpoint the traced orders' spans are sent to; null sends nothing. */
  readonly otlp: string | null;
  /** `--read-share`: the share of the measured operations that are reads of a customer's orders, 0 ≤ share < 1 (0: orders only). Absent in older files. */
  readonly readShare: number;
}

/**
 * How the runs are loaded.
 * - `equal` (default): each pattern's capacity first (a short closed loop at
 *   `capacityConcurrency` that saturates it), then every run open loop at one rate for
 *   all: `fraction` × the slowest selected pattern's capacity.
 * - `open` (`--rate`): every run open loop at `rate`, no capacity phase.
 * - `closed` (`--concurrency`): every run a closed loop, no capacity phase; latency has no
 *   coordinated-omission correction, and the report says so.
 */
export type LoadModel =
  | {
      readonly kind: 'equal';
      readonly fraction: number;
      readonly capacityConcurrency: number;
      /** The capacity run's window, ms, and its warm-up before it: at least `capacityWarmupMs`, until throughput settles, at most `capacityWarmupMaxMs`. */
      readonly capacityMs: number;
      readonly capacityWarmupMs: number;
      readonly capacityWarmupMaxMs: number;
    }
  | { readonly kind: 'open'; readonly rate: number }
  | { readonly kind: 'closed'; readonly concurrency: number }
  /** `pattern-bench sweep`: stepped open-loop rates per pattern (see Sweeper), not a runner model. */
  | { readonly kind: 'sweep'; readonly settings: SweepSettings };

/** The shape of a measured run under a model whose rate is known (equal load: once capacity gave it). */
export function shapeOf(model: LoadModel, equalRate: number | null): LoadShape {
  if (model.kind === 'closed') return { kind: 'closed', concurrency: model.concurrency };
  if (model.kind === 'open') return { kind: 'open', rate: model.rate };
  if (model.kind === 'sweep') throw new Error('a sweep steps its own rates: run it with Sweeper, not Runner');
  if (equalRate === null) throw new Error('equal load needs its rate from the capacity phase');
  return { kind: 'open', rate: equalRate };
}

/**
 * What a user may give, CLI or library: every field optional, numbers as numbers or as
 * the strings the command line carries. Times in seconds, as on the command line.
 */
export interface RunOptionsInput {
  patterns?: string | readonly string[];
  scenarios?: string | readonly string[];
  duration?: number | string;
  warmup?: number | string;
  concurrency?: number | string;
  rate?: number | string;
  trials?: number | string;
  seed?: number | string;
  quick?: boolean;
  outOfStockShare?: number | string;
  declineShare?: number | string;
  broker?: string;
  eventStore?: string;
  placement?: string;
  topology?: string;
  queueAck?: string;
  resilience?: string;
  /** Folder to write results into; `false` writes nothing. Default `results`. */
  out?: string | false;
  traceSample?: number | string;
  otlp?: string;
  readShare?: number | string;
}

/** Every default in one place. */
export const DEFAULTS = {
  durationS: 3,
  warmupS: 0.5,
  concurrency: 10,
  /** Equal load: the closed loop that measures capacity, orders in flight, and its window, s. */
  capacityConcurrency: 16,
  capacityS: 1,
  capacityWarmupS: 0.5,
  /** The longest a capacity run's warm-up waits for throughput to settle, s. */
  capacityWarmupMaxS: 2.5,
  /** Equal load: this share of the slowest selected pattern's capacity. */
  equalLoadFraction: 0.7,
  /** sweep: the latency objective, p99 ms. */
  sloMs: 50,
  trials: 1,
  seed: 42,
  /** Orders only: no reads in the measured load. */
  readShare: 0,
  sequentialMs: 200,
  drainTimeoutMs: 10_000,
  outOfStockShare: 0.1,
  declineShare: 0.1,
  broker: 'embedded',
  eventStore: 'memory',
  out: 'results',
  /** The longest a warm-up goes on waiting for throughput to settle, s. */
  warmupMaxS: 2,
  /** Load between the warm-up and the window, unrecorded: the pipeline fills again before anything counts. ms. */
  rampMs: 50,
  quick: { durationS: 1, warmupS: 0.3, sequentialMs: 60, warmupMaxS: 0.4, capacityS: 0.3, capacityWarmupS: 0.1, capacityWarmupMaxS: 0.1, rampMs: 50 },
} as const;

/** What `pattern-bench sweep` takes: the run's options but the load, trials and scenarios (a sweep steps its own rates, in the baseline), and --slo. */
export type SweepOptionsInput = Omit<RunOptionsInput, 'concurrency' | 'rate' | 'trials' | 'scenarios' | 'duration'> & { slo?: number | string };

/** Validate a sweep's input: a run config whose load is the sweep's settings. */
export function resolveSweepConfig(input: SweepOptionsInput = {}): RunConfig {
  const { slo, ...rest } = input;
  const sloMs = num('--slo', slo, { min: 0, exclusiveMin: true, max: 3_600_000, what: 'a p99 latency objective in ms > 0' }) ?? DEFAULTS.sloMs;
  const base = resolveRunConfig({ ...rest, scenarios: 'baseline', concurrency: DEFAULTS.capacityConcurrency });
  return { ...base, load: { kind: 'sweep', settings: sweepSettings(sloMs, base.quick) } };
}

/** Validate user input once and fill in the defaults. Throws a catalogued error naming the option. */
export function resolveRunConfig(input: RunOptionsInput = {}): RunConfig {
  const quick = input.quick ?? false;
  const patterns = names('--patterns', input.patterns, PATTERNS.map((p) => p.id), DEFAULT_PATTERNS);
  // A quick look is the steady state only, unless scenarios are asked for.
  const scenarios = names('--scenarios', input.scenarios, SCENARIOS.map((s) => s.id), quick ? ['baseline'] : DEFAULT_SCENARIOS);
  const durationS = num('--duration', input.duration, { min: 0, exclusiveMin: true, max: 86_400, what: 'a number of seconds > 0' }) ??
    (quick ? DEFAULTS.quick.durationS : DEFAULTS.durationS);
  const warmupS = num('--warmup', input.warmup, { min: 0, max: 3600, what: 'a number of seconds ≥ 0' }) ??
    (quick ? DEFAULTS.quick.warmupS : DEFAULTS.warmupS);
  const concurrency = num('--concurrency', input.concurrency, { min: 1, max: 10_000, integer: true, what: 'an integer from 1 to 10000' });
  const rate = num('--rate', input.rate, { min: 0, exclusiveMin: true, max: 1_000_000, what: 'orders per second > 0' });
  if (concurrency !== undefined && rate !== undefined) {
    throw new ConflictingOptionsError(['--rate', '--concurrency'], 'choose an open loop (--rate) or a closed loop (--concurrency)');
  }
  const load: LoadModel =
    rate !== undefined
      ? { kind: 'open', rate }
      : concurrency !== undefined
        ? { kind: 'closed', concurrency }
        : {
            kind: 'equal',
            fraction: DEFAULTS.equalLoadFraction,
            capacityConcurrency: DEFAULTS.capacityConcurrency,
            capacityMs: (quick ? DEFAULTS.quick.capacityS : DEFAULTS.capacityS) * 1000,
            capacityWarmupMs: (quick ? DEFAULTS.quick.capacityWarmupS : DEFAULTS.capacityWarmupS) * 1000,
            capacityWarmupMaxMs: (quick ? DEFAULTS.quick.capacityWarmupMaxS : DEFAULTS.capacityWarmupMaxS) * 1000,
          };
  const trials = num('--trials', input.trials, { min: 1, max: 100, integer: true, what: 'an integer from 1 to 100' }) ?? DEFAULTS.trials;
  const seed = num('--seed', input.seed, { min: 0, max: 2 ** 32 - 1, integer: true, what: 'an integer from 0 to 4294967295' }) ?? DEFAULTS.seed;
  const outOfStockShare = num('--out-of-stock-share', input.outOfStockShare, { min: 0, max: 1, what: 'a share from 0 to 1' }) ?? DEFAULTS.outOfStockShare;
  const declineShare = num('--decline-share', input.declineShare, { min: 0, max: 1, what: 'a share from 0 to 1' }) ?? DEFAULTS.declineShare;
  if (outOfStockShare + declineShare > 1) {
    throw new ConflictingOptionsError(['--out-of-stock-share', '--decline-share'], `their sum ${outOfStockShare + declineShare} is over 1`);
  }
  const broker = input.broker ?? DEFAULTS.broker;
  if (broker !== 'embedded' && !/^amqps?:\/\/[^\s]+$/.test(broker)) {
    throw new InvalidOptionError('--broker', broker, '"embedded" or an amqp:// URL');
  }
  const eventStore = input.eventStore ?? DEFAULTS.eventStore;
  if (eventStore !== 'memory' && !/^postgres(ql)?:\/\/[^\s]+$/.test(eventStore)) {
    throw new InvalidOptionError('--event-store', eventStore, '"memory" or a postgres:// URL');
  }
  const topology = input.topology ?? DEFAULT_TOPOLOGY;
  if (!isTopology(topology)) throw new InvalidOptionError('--topology', topology, TOPOLOGIES.map((t) => `"${t}"`).join(', '));
  // Child processes hold one part each: per-service is the only placement they have.
  const placement = input.placement ?? (topology === 'processes' ? 'per-service' : DEFAULT_PLACEMENT);
  if (!isPlacement(placement)) throw new InvalidOptionError('--placement', placement, PLACEMENTS.map((p) => `"${p}"`).join(', '));
  if (!placementsFor(topology).includes(placement)) {
    throw new ConflictingOptionsError([`--topology ${topology}`, `--placement ${placement}`], 'each part of the system runs in a child process of its own (per-service); leave --placement out or give per-service');
  }
  const queueAck = input.queueAck ?? 'manual';
  if (queueAck !== 'manual' && queueAck !== 'auto') throw new InvalidOptionError('--queue-ack', queueAck, '"manual" or "auto"');
  const resilience = input.resilience ?? 'default';
  if (resilience !== 'none' && resilience !== 'default') throw new InvalidOptionError('--resilience', resilience, '"none" or "default"');
  const traceSample = num('--trace-sample', input.traceSample, { min: 0, max: 1, what: 'a share from 0 to 1' }) ?? 0;
  const readShare = num('--read-share', input.readShare, { min: 0, max: 1, exclusiveMax: true, what: 'a share from 0 to less than 1' }) ?? DEFAULTS.readShare;
  const otlp = input.otlp === undefined ? null : otlpEndpoint('--otlp', input.otlp);
  const outDir = input.out === false ? null : resolve(input.out ?? DEFAULTS.out);
  if (outDir !== null) assertWritableDir('--out', outDir);

  return {
    patterns,
    scenarios,
    durationMs: durationS * 1000,
    warmupMs: warmupS * 1000,
    warmupMaxMs: Math.max(warmupS, quick ? DEFAULTS.quick.warmupMaxS : DEFAULTS.warmupMaxS) * 1000,
    load,
    trials,
    seed,
    quick,
    sequentialMs: quick ? DEFAULTS.quick.sequentialMs : DEFAULTS.sequentialMs,
    drainTimeoutMs: DEFAULTS.drainTimeoutMs,
    generator: { outOfStockShare, declineShare },
    broker,
    eventStore,
    placement,
    topology,
    queueAck,
    resilience,
    outDir,
    traceSample,
    otlp,
    readShare,
  };
}

interface NumRule {
  min: number;
  max: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  integer?: boolean;
  what: string;
}

function num(option: string, value: number | string | undefined, rule: NumRule): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : String(value);
  // Number('') is 0 and Number('0x10') is 16: accept plain decimal notation only.
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  const tooLow = rule.exclusiveMin ? n <= rule.min : n < rule.min;
  const tooHigh = rule.exclusiveMax ? n >= rule.max : n > rule.max;
  if (!Number.isFinite(n) || tooLow || tooHigh || (rule.integer && !Number.isInteger(n))) {
    throw new InvalidOptionError(option, value, rule.what);
  }
  return n;
}

/**
 * A list option (`a,b,c`): every item named once, none empty. An empty item (`rest,,grpc`)
 * or one given twice is refused, not quietly dropped: what the user wrote is what runs.
 */
export function names(option: string, value: string | readonly string[] | undefined, known: readonly string[], fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const text = typeof value === 'string' ? value : value.join(',');
  const list = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim());
  const expected = `a comma-separated list of: ${known.join(', ')}`;
  if (list.every((s) => s.length === 0)) throw new InvalidOptionError(option, text, expected);
  if (list.some((s) => s.length === 0)) throw new InvalidOptionError(option, text, `${expected}, with no empty item`);
  for (const name of list) if (!known.includes(name)) throw new UnknownNameError(option, name, known);
  const twice = list.find((name, i) => list.indexOf(name) !== i);
  if (twice !== undefined) throw new InvalidOptionError(option, text, `${expected}, each once (${twice} is listed twice)`);
  return list;
}

/** The folder exists and is writable, or can be created under a writable ancestor. */
export function assertWritableDir(option: string, dir: string): void {
  let current = dir;
  for (;;) {
    let stat;
    try {
      stat = statSync(current);
    } catch {
      const parent = dirname(current);
      if (parent === current) throw new OutputNotWritableError(option, dir, 'no existing parent folder');
      current = parent;
      continue;
    }
    if (!stat.isDirectory()) {
      throw new OutputNotWritableError(option, dir, current === dir ? 'it is not a folder' : `${current} is not a folder`);
    }
    try {
      accessSync(current, constants.W_OK);
    } catch {
      throw new OutputNotWritableError(option, dir, `${current} is not writable`);
    }
    return;
  }
}
