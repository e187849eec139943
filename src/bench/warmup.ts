import type { OrderRequest } from '../workflow/types.js';
import { runLoad, type LoadShape, type LoadTarget } from './loadgen.js';
import type { PlacedLog } from './placed.js';

/** How the warm-up decides that throughput has settled. */
export interface SettleOptions {
  /** Warm up at least this long, ms (the configured `--warmup`). */
  readonly minMs: number;
  /** Never longer than this, ms: a pattern that does not settle is measured anyway, and the results say so. */
  readonly maxMs: number;
  /** Throughput is sampled over slices this long, ms. Default 250. */
  readonly sliceMs?: number;
  /** Settled: the mean of the last `window` slices within this share of the mean of the `window` before them. Default 0.05. */
  readonly tolerance?: number;
  /** Slices per mean. Default 3. */
  readonly window?: number;
}

export interface WarmupResult {
  /** How long the warm-up took, ms. */
  readonly warmupMs: number;
  /** Whether throughput settled before `maxMs`. */
  readonly settled: boolean;
  /** Orders/s of each slice, in order. */
  readonly slices: readonly number[];
}

/**
 * Whether throughput has stopped climbing: the mean of the last `window` slices is within
 * `tolerance` of the mean of the `window` slices before them. (A JIT that is still
 * compiling, or pools still filling, show as a rising mean; noise alone does not.)
 */
export function isSettled(slices: readonly number[], window: number, tolerance: number): boolean {
  if (slices.length < 2 * window) return false;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const last = mean(slices.slice(-window));
  const before = mean(slices.slice(-2 * window, -window));
  return last > 0 && Math.abs(last - before) <= tolerance * last;
}

/**
 * Drive the run's own load shape until throughput settles — every thread of the system
 * has compiled its hot paths, every connection is open, every pool is full — and at least
 * `minMs` has passed, or `maxMs` is up. Nothing is recorded but the orders (in `log`,
 * for the invariant checker). Closed loop or open loop, as the measurement will be.
 */
export async function warmUntilSettled(
  target: LoadTarget,
  shape: LoadShape,
  nextOrder: () => OrderRequest,
  log: PlacedLog,
  options: SettleOptions,
  signal?: AbortSignal,
): Promise<WarmupResult> {
  const sliceMs = options.sliceMs ?? 250;
  const window = options.window ?? 3;
  const tolerance = options.tolerance ?? 0.05;
  const slices: number[] = [];
  let elapsed = 0;
  for (;;) {
    if (signal?.aborted) return { warmupMs: elapsed, settled: false, slices };
    const slice = await runLoad(target, { shape, warmupMs: 0, durationMs: sliceMs, nextOrder, log, ...(signal ? { signal } : {}) });
    elapsed += slice.windowMs;
    slices.push(Math.round(slice.throughput.achieved));
    const settled = isSettled(slices, window, tolerance);
    if ((settled && elapsed >= options.minMs) || elapsed >= options.maxMs) return { warmupMs: elapsed, settled, slices };
  }
}
