import { performance } from 'node:perf_hooks';
import { numberAtLeast, resolveCommon } from './params.js';
import { TimedQueue } from './timed-queue.js';
import type { FaultCommon, Toxic } from './types.js';

export interface LatencySpec extends FaultCommon {
  readonly type: 'latency';
  /** Added to every chunk, ms. */
  readonly latencyMs: number;
  /** Each chunk's delay is latencyMs ± up to jitterMs (uniform, seeded), ms; default 0. */
  readonly jitterMs?: number;
}

/**
 * Delays every chunk (and the half-close) by latency ± jitter, counted from when the proxy
 * read it. Order is kept: a chunk is never released before the one ahead of it, so a
 * short draw behind a long one waits for it (as on one TCP stream). Removed: what is held
 * is released at once, in order.
 */
export function latency(spec: LatencySpec): Toxic {
  const common = resolveCommon('latency', spec);
  const latencyMs = numberAtLeast('latency', 'latencyMs', spec.latencyMs, 0);
  const jitterMs = numberAtLeast('latency', 'jitterMs', spec.jitterMs, 0, 0);
  return {
    type: 'latency',
    ...common,
    params: { latencyMs, jitterMs },
    stage(ctx) {
      const queue = new TimedQueue(ctx);
      const delay = () => Math.max(0, jitterMs > 0 ? latencyMs + (ctx.random.next() * 2 - 1) * jitterMs : latencyMs);
      return {
        write: (chunk) => queue.push(chunk, performance.now() + delay()),
        end: () => queue.push(null, performance.now() + delay()),
        flush: () => queue.flush(),
        dispose: () => queue.dispose(),
      };
    },
  };
}
