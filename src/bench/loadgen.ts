import { performance } from 'node:perf_hooks';
import { describeError } from '../errors.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import { LatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import { PlacedLog } from './placed.js';

/**
 * Closed loop: `concurrency` workers, each placing its next order when the previous one
 * settles (autocannon's connections). Open loop: orders start at a fixed `rate` whatever
 * the system does (k6's constant-arrival-rate, wrk2), at most `maxInFlight` at once.
 */
export type LoadShape =
  | { readonly kind: 'closed'; readonly concurrency: number }
  | { readonly kind: 'open'; readonly rate: number; readonly maxInFlight?: number };

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
  /** The clock, ms. Tests may replace it; default performance.now. */
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
  readonly latency: LatencySummary;
  readonly placed: number;
  readonly failed: number;
}

/** Per slice of the window (`LoadResult.timelineBucketMs` long): orders completed and failed in it. */
export interface TimelinePoint {
  /** Start of the slice, ms after the window opened. */
  readonly atMs: number;
  readonly completed: number;
  readonly failed: number;
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
  /** Failures by code (`PB_ERR_ORDER_FAILED`, `ECONNREFUSED`, `downstream_error`…). */
  readonly errors: Readonly<Record<string, number>>;
  readonly throughput: {
    /** Open loop: the rate asked for. null for closed loop. orders/s. */
    readonly target: number | null;
    /** Open loop: orders actually sent per second in the window. null for closed loop. */
    readonly offered: number | null;
    /** Orders started in the window that reached a business outcome within it, per second. */
    readonly achieved: number;
  };
  /** Until the terminal state. */
  readonly latency: LatencySummary;
  /** Until the system accepted the order, for patterns that report an accept. */
  readonly acceptLatency: LatencySummary | null;
  /** Open loop: how late the scheduler sent orders behind their intended start. */
  readonly schedulerLateness: LatencySummary | null;
  readonly cost: {
    /** Process CPU time (all threads) in the window per completed order, µs; null when no order completed. */
    readonly cpuMicrosPerOrder: number | null;
    /** Share of the window the main event loop was busy, 0..1. */
    readonly eventLoopUtilization: number;
  };
  readonly timeline: readonly TimelinePoint[];
  readonly timelineBucketMs: number;
  /** The segments asked for, in order. */
  readonly segments: readonly SegmentResult[];
  readonly aborted: boolean;
}

/** How close to a window boundary (float rounding) a start counts as on it, ms. */
const EDGE_MS = 1e-6;

/** Closed loop: longest stretch of ms without giving the event loop back. */
const YIELD_EVERY_MS = 5;

/** Drive `target` with the given load shape and measure it. */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const now = options.now ?? (() => performance.now());
  const correct = options.correctCoordinatedOmission ?? true;
  const { shape, warmupMs, durationMs, nextOrder, signal } = options;

  // Everything the hot path touches is allocated before the clock starts.
  const latency = new LatencyHistogram();
  const acceptLatency = new LatencyHistogram();
  const lateness = new LatencyHistogram();
  const segments = (options.segments ?? []).map((seg) => ({ ...seg, histogram: new LatencyHistogram(), placed: 0, failed: 0 }));
  const placed = options.log ?? new PlacedLog();
  const errors: Record<string, number> = {};
  // About a hundred slices, none shorter than 100 ms.
  const bucketMs = Math.max(100, Math.ceil(durationMs / 100 / 100) * 100);
  const buckets = Math.max(1, Math.ceil(durationMs / bucketMs));
  const completedPerBucket = new Array<number>(buckets).fill(0);
  const failedPerBucket = new Array<number>(buckets).fill(0);
  let windowPlaced = 0;
  let confirmed = 0;
  let cancelled = 0;
  let failed = 0;
  let achieved = 0;
  let offered = 0;
  let settled = 0;
  let settledFailed = 0;
  let inFlight = 0;
  let closed = false; // set when results are final: late settlements change nothing
  let stopped = false;

  const t0 = now();
  const windowStart = t0 + warmupMs;
  const windowEnd = windowStart + durationMs;
  // Open-loop starts lie on a grid (t0 + k × interval): a start that falls on a window
  // boundary up to float rounding belongs to the window it opens, the same in every run.
  const inWindow = (t: number) => t >= windowStart - EDGE_MS && t < windowEnd - EDGE_MS;
  type Segment = (typeof segments)[number];
  const segmentOf = (t: number, done: number): Segment | undefined => {
    // An order whose life reaches into a claiming segment (the fault) was disturbed by it.
    for (const seg of segments) if (seg.claimsOverlapping && t < windowStart + seg.toMs && done > windowStart + seg.fromMs) return seg;
    for (const seg of segments) if (t >= windowStart + seg.fromMs && t < windowStart + seg.toMs) return seg;
    return undefined;
  };
  const surges = options.surges ?? [];
  /** The load multiplier at time t. */
  const multiplierAt = (t: number) => {
    let m = 1;
    for (const s of surges) if (t >= windowStart + s.fromMs && t < windowStart + s.toMs) m *= s.multiplier;
    return m;
  };
  const bucketOf = (t: number) => Math.min(buckets - 1, Math.floor((t - windowStart) / bucketMs));

  let idle: (() => void) | undefined;
  let slotFreed: (() => void) | undefined; // open loop at its in-flight cap waits for this
  const settle = () => {
    inFlight--;
    settled++;
    slotFreed?.();
    if (inFlight === 0 && idle) idle();
  };

  /** Start one order. `intended` is when it should have started, `sent` when it did. */
  const launch = (intended: number, sent: number): Promise<void> => {
    const order = nextOrder();
    const index = placed.add(order);
    inFlight++;
    const measured = inWindow(intended);
    if (measured) windowPlaced++;
    const from = correct ? intended : sent;
    return target.placeOrder(order).then(
      (outcome) => {
        settle();
        if (closed) return;
        placed.accept(index);
        const done = now();
        const ok = outcome.reason !== 'downstream_error';
        const segment = segments.length > 0 ? segmentOf(intended, done) : undefined;
        if (segment) segment.placed++;
        if (inWindow(done)) {
          const s = bucketOf(done);
          if (ok) {
            // Only the window's own orders: a backlog left over from the warm-up would
            // inflate the rate the system sustains.
            if (measured) achieved++;
            completedPerBucket[s] = (completedPerBucket[s] ?? 0) + 1;
          } else {
            failedPerBucket[s] = (failedPerBucket[s] ?? 0) + 1;
          }
        }
        if (!ok) settledFailed++;
        if (segment) {
          segment.histogram.recordMs(done - from);
          if (!ok) segment.failed++;
        }
        if (!measured) return;
        latency.recordMs(done - from);
        if (outcome.acceptedAt !== undefined) acceptLatency.recordMs(outcome.acceptedAt - from);
        if (!ok) {
          failed++;
          errors.downstream_error = (errors.downstream_error ?? 0) + 1;
        } else if (outcome.status === 'CONFIRMED') confirmed++;
        else cancelled++;
      },
      (err: unknown) => {
        settle();
        settledFailed++;
        if (closed) return;
        const done = now();
        if (inWindow(done)) {
          const s = bucketOf(done);
          failedPerBucket[s] = (failedPerBucket[s] ?? 0) + 1;
        }
        const segment = segments.length > 0 ? segmentOf(intended, done) : undefined;
        if (segment) {
          segment.placed++;
          segment.failed++;
        }
        if (!measured) return;
        failed++;
        const { code } = describeError(err);
        errors[code] = (errors[code] ?? 0) + 1;
      },
    );
  };

  // Cost counters cover the window only; a timer takes the first reading when it opens.
  let cpuStart = process.cpuUsage();
  let eluStart = performance.eventLoopUtilization();
  let cpuEnd: NodeJS.CpuUsage | undefined;
  let eluEnd: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  const windowTimer = setTimeout(() => {
    cpuStart = process.cpuUsage();
    eluStart = performance.eventLoopUtilization();
    options.windowProbe?.open();
  }, warmupMs);
  const endTimer = setTimeout(() => {
    cpuEnd = process.cpuUsage(cpuStart);
    eluEnd = performance.eventLoopUtilization(eluStart);
    options.windowProbe?.close();
  }, warmupMs + durationMs);

  const progressTimer = options.onProgress
    ? setInterval(() => {
        const t = now();
        options.onProgress?.({
          phase: t < windowStart ? 'warmup' : t < windowEnd ? 'measure' : 'drain',
          elapsedMs: t - t0,
          settled,
          failed: settledFailed,
          inFlight,
        });
      }, options.progressIntervalMs ?? 1000)
    : undefined;

  const onAbort = () => {
    stopped = true;
    wakeScheduler?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stopped = true;

  let wakeScheduler: (() => void) | undefined;
  if (shape.kind === 'closed') {
    // A pattern that answers with resolved promises (direct calls) never gives the event
    // loop back; yield every few ms so that timers, signals and I/O still run.
    let lastYield = now();
    const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
    /** One closed-loop worker: the next order as soon as the last settles, until `until`. */
    const worker = async (until = windowEnd) => {
      while (!stopped && now() < until) {
        const t = now();
        if (t - lastYield > YIELD_EVERY_MS) {
          lastYield = t;
          await yieldNow();
          continue;
        }
        await launch(t, t);
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < shape.concurrency; i++) workers.push(worker());
    // A surge adds workers for its part of the window.
    const surgeTimers: NodeJS.Timeout[] = [];
    for (const surge of surges) {
      const extra = Math.round(shape.concurrency * (surge.multiplier - 1));
      const until = Math.min(windowStart + surge.toMs, windowEnd);
      workers.push(
        new Promise<void>((resolve) => {
          surgeTimers.push(
            setTimeout(() => {
              const started: Promise<void>[] = [];
              for (let i = 0; i < extra; i++) started.push(worker(until));
              void Promise.all(started).then(() => resolve());
            }, Math.max(0, warmupMs + surge.fromMs)),
          );
          signal?.addEventListener('abort', () => resolve(), { once: true });
        }),
      );
    }
    await waitOrTimeout(Promise.all(workers).then(() => undefined), windowEnd - now() + (options.drainTimeoutMs ?? 10_000));
    for (const timer of surgeTimers) clearTimeout(timer);
  } else {
    const maxInFlight = shape.maxInFlight ?? Number.POSITIVE_INFINITY;
    // Intended start of the next order; the gap to the one after depends on the rate then.
    let nextIntended = t0;
    // The schedule is anchored, not accumulated: start k after the anchor is anchor + k × interval
    // (no drift, and the same grid in every run); a surge re-anchors at the start where the rate changes.
    let anchor = t0;
    let sinceAnchor = 0;
    let anchoredMultiplier = multiplierAt(t0);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const tick = () => {
        timer = undefined;
        if (stopped) return resolve();
        const t = now();
        while (inFlight < maxInFlight) {
          const intended = nextIntended;
          if (intended >= windowEnd) return resolve();
          if (intended > t) break;
          const m = multiplierAt(intended);
          if (m !== anchoredMultiplier) {
            anchor = intended;
            sinceAnchor = 0;
            anchoredMultiplier = m;
          }
          nextIntended = anchor + (++sinceAnchor * 1000) / (shape.rate * m);
          if (inWindow(t)) offered++;
          if (inWindow(intended)) lateness.recordMs(t - intended);
          void launch(intended, t);
        }
        if (inFlight >= maxInFlight) return; // a settlement wakes us
        // Timers fire at 1 ms granularity: a high rate sends a small batch per tick.
        timer = setTimeout(tick, Math.max(1, Math.round(nextIntended - now())));
      };
      wakeScheduler = () => {
        if (timer) clearTimeout(timer);
        tick();
      };
      if (Number.isFinite(maxInFlight)) {
        slotFreed = () => {
          if (!timer && inFlight < maxInFlight) queueMicrotask(() => wakeScheduler?.());
        };
      }
      tick();
    });
    if (timer) clearTimeout(timer);
    wakeScheduler = undefined;
    slotFreed = undefined;
    await waitForIdle(() => inFlight, (fn) => (idle = fn), options.drainTimeoutMs ?? 10_000);
  }

  closed = true;
  clearTimeout(windowTimer);
  clearTimeout(endTimer);
  if (progressTimer) clearInterval(progressTimer);
  signal?.removeEventListener('abort', onAbort);
  const cpu = cpuEnd ?? process.cpuUsage(cpuStart);
  const elu = eluEnd ?? performance.eventLoopUtilization(eluStart);
  const windowSec = durationMs / 1000;
  const completedInWindow = confirmed + cancelled;

  return {
    placed,
    windowMs: durationMs,
    outcomes: { placed: windowPlaced, confirmed, cancelled, failed, timedOut: Math.max(0, windowPlaced - confirmed - cancelled - failed) },
    errors,
    throughput: {
      target: shape.kind === 'open' ? shape.rate : null,
      offered: shape.kind === 'open' ? offered / windowSec : null,
      achieved: achieved / windowSec,
    },
    latency: latency.summary(),
    acceptLatency: acceptLatency.count > 0 ? acceptLatency.summary() : null,
    schedulerLateness: shape.kind === 'open' ? lateness.summary() : null,
    cost: {
      cpuMicrosPerOrder: completedInWindow > 0 ? (cpu.user + cpu.system) / completedInWindow : null,
      eventLoopUtilization: elu.utilization,
    },
    timeline: completedPerBucket.map((completed, i) => ({ atMs: i * bucketMs, completed, failed: failedPerBucket[i] ?? 0 })),
    timelineBucketMs: bucketMs,
    segments: segments.map(({ name, fromMs, toMs, histogram, placed: n, failed: f }) => ({ name, fromMs, toMs, latency: histogram.summary(), placed: n, failed: f })),
    aborted: stopped,
  };
}

function waitOrTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]).finally(() =>
    clearTimeout(timer),
  );
}

function waitForIdle(inFlight: () => number, onIdle: (fn: (() => void) | undefined) => void, timeoutMs: number): Promise<void> {
  if (inFlight() === 0) return Promise.resolve();
  return waitOrTimeout(new Promise<void>((resolve) => onIdle(resolve)), timeoutMs).finally(() => onIdle(undefined));
}
