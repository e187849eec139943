import type { OrderRequest } from '../workflow/types.js';
import { runLoad, type LoadShape, type LoadTarget } from './loadgen.js';
import type { PlacedLog } from './placed.js';

/** How the warm-up decides that throughput has settled. */
export interface SettleOptions {
  /** Warm up at least this long, ms (the configured `--warmup`). */
  readonly minMs: number;
  /** Never longer than this, ms: a pattern that does not settle is measured anyway, and the results say so. */
  readonly maxMs: number;
  /** Throughput is sampled over slices this long, ms. Default 200. */
  readonly sliceMs?: number;
  /** Settled: the last `window` slices each within this share of their mean. Default 0.1. */
  readonly tolerance?: number;
  /** Slices compared. Default 3. */
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

/** Whether the last `window` values are each within `tolerance` of their mean. */
export function isSettled(slices: readonly number[], window: number, tolerance: number): boolean {
  if (slices.length < window) return false;
  const last = slices.slice(-window);
  const mean = last.reduce((a, b) => a + b, 0) / window;
  return mean > 0 && last.every((x) => Math.abs(x - mean) <= tolerance * mean);
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
  const sliceMs = options.sliceMs ?? 200;
  const window = options.window ?? 3;
  const tolerance = options.tolerance ?? 0.1;
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
