/**
 * The load generator: drives a target with a load shape and measures it. Where orders
 * fall in time (./load/window), what is recorded of them (./load/recorder), when they
 * start (./load/schedule), the window's cost (./load/cost).
 */
import { performance } from 'node:perf_hooks';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import type { LatencySummary } from '../metrics/histogram.js';
import { PlacedLog } from './placed.js';
import { CostMeter, type WindowCost, type CpuClock } from './load/cost.js';
import { Launcher } from './load/launcher.js';
import { READ_YOUR_WRITES } from './load/consistency.js';
import { ReadPath, type ReadMix, type ReadResult } from './load/reads.js';
import { Recorder } from './load/recorder.js';
import type { StartSlice } from './load/recovery.js';
import { runClosedLoop, runOpenLoop, StopSwitch, type ScheduleContext } from './load/schedule.js';
import { LoadWindow } from './load/window.js';

/**
 * Closed loop: `concurrency` workers, each placing its next order when the previous one
 * settles (autocannon's connections). Open loop: orders start at a fixed `rate` whatever
 * the system does (k6's constant-arrival-rate, wrk2), at most `maxInFlight` at once.
 */
export type LoadShape =
  | { readonly kind: 'closed'; readonly concurrency: number }
  | { readonly kind: 'open'; readonly rate: number; readonly maxInFlight?: number };

export type { ReadMix, ReadResult } from './load/reads.js';

export interface LoadTarget {
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
}

export interface LoadProgress {
  readonly phase: 'warmup' | 'measure' | 'drain';
  /** ms since the load started. */
  readonly elapsedMs: number;
  /** Orders settled so far (warm-up included). */
  readonly settled: number;
  readonly failed: number;
  readonly inFlight: number;
}

export interface LoadOptions {
  readonly shape: LoadShape;
  /** Load before the measurement window; nothing in it is recorded. ms. */
  readonly warmupMs: number;
  /** The measurement window. ms. */
  readonly durationMs: number;
  /** How long to wait for orders still in flight when the window closes. ms, default 10 000. */
  readonly drainTimeoutMs?: number;
  readonly nextOrder: () => OrderRequest;
  /** Where placed orders are recorded (a run passes one log to every phase). Default: a new one. */
  readonly log?: PlacedLog;
  /**
   * Open loop only. true (default): latency counts from each order's intended start, so
   * time an order spent waiting behind a stall is counted (coordinated-omission
   * correction). false: from the moment it was actually sent — the stall hides.
   */
  readonly correctCoordinatedOmission?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** ms, default 1000. */
  readonly progressIntervalMs?: number;
  /**
   * The clock, ms; default performance.now. Tests may replace it with one that follows fake
   * timers (vitest's): the timers still run the schedule, the clock says when things happened.
   */
  readonly now?: () => number;
  /**
   * Extra load for parts of the window (a spike): from `fromMs` to `toMs` after the window
   * opens, closed loop runs `multiplier`× the orders in flight, open loop `multiplier`× the rate.
   */
  readonly surges?: readonly LoadSurge[];
  /**
   * Parts of the window to report on their own (before, during and after a fault):
   * latency and outcomes of the orders that started in each, ms after the window opens —
   * except that an order still in flight when a `claimsOverlapping` segment (the fault)
   * began belongs to that segment: it was disturbed, so it is not "before".
   */
  readonly segments?: readonly SegmentSpec[];
  /** Told when the measurement window opens and closes, at the moments the generator's own cost readings are taken. */
  readonly windowProbe?: { open(): void; close(): void };
  /** Where the window's CPU time is read. Default `process.cpuUsage`; a test gives a clock of its own. */
  readonly cpuUsage?: CpuClock;
  /**
   * The mixed workload: this share of the operations started (open loop: ticks; closed
   * loop: a worker's next) are reads of a random customer who has ordered so far, timed
   * like orders and counted apart (LoadResult.reads). Absent or share 0: orders only.
   */
  readonly reads?: ReadMix;
}

export interface SegmentSpec {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly claimsOverlapping?: boolean;
}

export interface LoadSurge {
  readonly fromMs: number;
  readonly toMs: number;
  readonly multiplier: number;
}

/** Latency and outcomes of the orders of one segment of the window (see LoadOptions.segments). */
export interface SegmentResult {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Every order of the segment, failed and timed-out ones included (see LoadResult.latency). */
  readonly latency: LatencySummary;
  readonly placed: number;
  /** Of `placed`: rejected, cancelled because a downstream hop failed, or timed out. */
  readonly failed: number;
}

/** Per slice of the window (`LoadResult.timelineBucketMs` long). */
export interface TimelinePoint {
  /** Start of the slice, ms after the window opened. */
  readonly atMs: number;
  /** Orders that reached a business outcome (confirmed or cancelled) in the slice, whenever they started. */
  readonly completed: number;
  /** Orders that failed in the slice (rejected, downstream error), whenever they started. */
  readonly failed: number;
  /**
   * p99 latency of the orders that started in the slice (failed and timed-out included),
   * ms; null when none started. Absent in older files.
   */
  readonly p99Ms?: number | null;
}

export interface LoadOutcomes {
  /** Orders started in the window. */
  readonly placed: number;
  readonly confirmed: number;
  readonly cancelled: number;
  /** Rejected by the pattern, or cancelled because a downstream hop failed. */
  readonly failed: number;
  /** Still in flight when the drain timeout ran out. */
  readonly timedOut: number;
}

export interface LoadResult {
  /** Every order started, warm-up included, and whether the system took it (the invariant checker needs them all). */
  readonly placed: PlacedLog;
  readonly windowMs: number;
  readonly outcomes: LoadOutcomes;
  /** Failures by code (`PB_ERR_ORDER_FAILED`, `ECONNREFUSED`, `downstream_error`…); timeouts are `outcomes.timedOut`. */
  readonly errors: Readonly<Record<string, number>>;
  readonly throughput: {
    /** Open loop: the rate asked for. null for closed loop. orders/s. */
    readonly target: number | null;
    /** Open loop: orders actually sent per second in the window (with reads: operations, reads included, as `target` is). null for closed loop. */
    readonly offered: number | null;
    /** Orders that reached a business outcome (confirmed or cancelled) inside the window, whenever they started, per second. */
    readonly achieved: number;
  };
  /** The orders `achieved` counts: what CPU per order divides by. */
  readonly completedInWindow: number;
  /**
   * Every order started in the window, from its (intended) start: confirmed or cancelled
   * when it was, failed when it failed, and one still in flight when the drain timeout
   * ran out at that deadline, a lower bound (`lowerBounds` of them). count = outcomes.placed.
   */
  readonly latency: LatencySummary;
  /** `latency`'s histogram, HdrHistogram's compressed base64 (see mergeLatency). */
  readonly latencyHistogram: string;
  /** The failed and timed-out orders of `latency` alone; null when none. */
  readonly failedLatency: LatencySummary | null;
  /** Until the system accepted the order, for patterns that report an accept. */
  readonly acceptLatency: LatencySummary | null;
  /** Open loop: how late the scheduler sent orders behind their intended start. */
  readonly schedulerLateness: LatencySummary | null;
  readonly cost: {
    /** Process CPU time (all threads) in the window per order of `completedInWindow`, µs; null when none. */
    readonly cpuMicrosPerOrder: number | null;
    /** Share of the window the main event loop was busy, 0..1. */
    readonly eventLoopUtilization: number;
  };
  readonly timeline: readonly TimelinePoint[];
  readonly timelineBucketMs: number;
  /** The window's orders by the slice they started in, with their latency histograms: what the time to recover reads (kept in memory, not in results files). */
  readonly startSlices: readonly StartSlice[];
  /** The segments asked for, in order: the window's orders only. */
  readonly segments: readonly SegmentResult[];
  /** The window's reads (LoadOptions.reads); null without reads. */
  readonly reads: ReadResult | null;
  readonly aborted: boolean;
}

/** Drive `target` with the given load shape and measure it. */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const now = options.now ?? (() => performance.now());
  const { shape, warmupMs, durationMs } = options;
  // Everything the hot path touches is allocated before the clock starts.
  const log = options.log ?? new PlacedLog();
  const t0 = now();
  const window = new LoadWindow(t0, warmupMs, durationMs);
  const recorder = new Recorder(window, options.segments ?? []);
  const reads = options.reads && options.reads.share > 0 ? new ReadPath(options.reads, window, now) : undefined;
  const launcher = new Launcher(target, options.nextOrder, log, recorder, now, options.correctCoordinatedOmission ?? true, reads);
  const stop = new StopSwitch(options.signal);
  const cost = new CostMeter(warmupMs, durationMs, options.windowProbe, options.cpuUsage);
  const progress = reportProgress(options, launcher, window, t0, now);
  const ctx: ScheduleContext = { now, t0, window, surges: options.surges ?? [], launcher, recorder, stop, drainTimeoutMs: options.drainTimeoutMs ?? 10_000 };
  let offered: number | null = null;
  if (shape.kind === 'closed') await runClosedLoop(ctx, shape.concurrency);
  else offered = await runOpenLoop(ctx, shape.rate, shape.maxInFlight);
  // The read-your-writes checks of the last orders finish within their own bound.
  if (reads && !stop.stopped) await reads.checks.idle((options.reads?.readYourWrites ?? READ_YOUR_WRITES).boundMs);
  // What is still in flight has timed out: recorded at this deadline, a lower bound.
  const deadline = now();
  recorder.expire(deadline);
  reads?.expire();
  log.expire(deadline);
  const windowCost = cost.finish();
  if (progress) clearInterval(progress);
  stop.dispose();
  return { ...resultOf(options, recorder, log, windowCost, offered, stop.stopped), reads: reads ? reads.result(durationMs) : null };
}

function reportProgress(options: LoadOptions, launcher: Launcher, window: LoadWindow, t0: number, now: () => number): NodeJS.Timeout | undefined {
  const { onProgress } = options;
  if (!onProgress) return undefined;
  return setInterval(() => {
    const t = now();
    onProgress({
      phase: t < window.start ? 'warmup' : t < window.end ? 'measure' : 'drain',
      elapsedMs: t - t0,
      settled: launcher.settled,
      failed: launcher.settledFailed,
      inFlight: launcher.inFlight,
    });
  }, options.progressIntervalMs ?? 1000);
}

function resultOf(options: LoadOptions, r: Recorder, placed: PlacedLog, cost: WindowCost, offered: number | null, aborted: boolean): Omit<LoadResult, 'reads'> {
  const { shape, durationMs } = options;
  const windowSec = durationMs / 1000;
  return {
    placed,
    windowMs: durationMs,
    outcomes: { placed: r.placed, confirmed: r.confirmed, cancelled: r.cancelled, failed: r.failed, timedOut: r.timedOut },
    errors: r.errors,
    throughput: {
      target: shape.kind === 'open' ? shape.rate : null,
      offered: offered === null ? null : offered / windowSec,
      achieved: r.completedInWindow / windowSec,
    },
    completedInWindow: r.completedInWindow,
    latency: r.latency.summary(),
    latencyHistogram: r.latency.encode(),
    failedLatency: r.failedLatency.count > 0 ? r.failedLatency.summary() : null,
    acceptLatency: r.acceptLatency.count > 0 ? r.acceptLatency.summary() : null,
    schedulerLateness: shape.kind === 'open' ? r.lateness.summary() : null,
    cost: {
      cpuMicrosPerOrder: r.completedInWindow > 0 ? cost.cpuMicros / r.completedInWindow : null,
      eventLoopUtilization: cost.eventLoopUtilization,
    },
    timeline: r.timeline(),
    timelineBucketMs: r.sliceMs,
    startSlices: r.startSlices(),
    segments: r.segmentResults(),
    aborted,
  };
}
