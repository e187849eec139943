import { Bench } from 'tinybench';
import type { OrderRequest } from '../workflow/types.js';
import type { LoadTarget } from './loadgen.js';
import type { PlacedLog } from './placed.js';

/** Sequential single-order latency (one order at a time), from tinybench. ms. */
export interface SequentialResult {
  readonly samples: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Relative margin of error of the mean at 95%, in percent. */
  readonly rmePercent: number;
}

/**
 * Place orders one at a time for `timeMs` (after a short warm-up) and report tinybench's
 * statistics. Every order placed is recorded in `log`, for the invariant checker.
 */
export async function measureSequential(
  target: LoadTarget,
  nextOrder: () => OrderRequest,
  log: PlacedLog,
  timeMs: number,
  signal?: AbortSignal,
): Promise<SequentialResult | null> {
  // tinybench never removes the listeners it puts on a signal: hand it one of its own,
  // tied to the run's for this measurement only.
  const local = new AbortController();
  const forward = () => local.abort();
  signal?.addEventListener('abort', forward, { once: true });
  const bench = new Bench({
    time: timeMs,
    iterations: 10,
    warmupTime: Math.min(100, timeMs / 4),
    warmupIterations: 5,
    throws: true,
    signal: local.signal,
  });
  bench.add('placeOrder', async () => {
    const order = nextOrder();
    const index = log.add(order, performance.now());
    const outcome = await target.placeOrder(order);
    log.accept(index);
    log.settle(index, outcome, performance.now());
  });
  try {
    await bench.run();
  } finally {
    signal?.removeEventListener('abort', forward);
  }
  const result = bench.tasks[0]?.result;
  if (!result || result.state !== 'completed') return null;
  const { latency } = result;
  return {
    samples: latency.samplesCount,
    meanMs: latency.mean,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    rmePercent: latency.rme,
  };
}
