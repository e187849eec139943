import { performance } from 'node:perf_hooks';
import { numberAtLeast, resolveCommon } from './params.js';
import { TimedQueue } from './timed-queue.js';
import type { FaultCommon, Toxic } from './types.js';

export interface BandwidthSpec extends FaultCommon {
  readonly type: 'bandwidth';
  /** The pipe's rate, KB/s (1 KB = 1000 bytes, as toxiproxy counts). */
  readonly rateKBps: number;
}

/** Pieces are cut to this many ms of transmission each, so the output flows evenly. */
const PIECE_MS = 10;

/**
 * Limits the pipe to rateKBps: each piece of a chunk is released when it would have
 * finished crossing a link of that rate, after everything ahead of it. Removed: what is
 * held is released at once, in order.
 */
export function bandwidth(spec: BandwidthSpec): Toxic {
  const common = resolveCommon('bandwidth', spec);
  const rateKBps = numberAtLeast('bandwidth', 'rateKBps', spec.rateKBps, 0.001);
  const bytesPerMs = rateKBps; // KB/s = 1000 B / 1000 ms
  const piece = Math.max(1, Math.floor(bytesPerMs * PIECE_MS));
  return {
    type: 'bandwidth',
    ...common,
    params: { rateKBps },
    stage(ctx) {
      const queue = new TimedQueue(ctx);
      return {
        write(chunk) {
          let due = Math.max(queue.lastDue, performance.now());
          for (let at = 0; at < chunk.length; at += piece) {
            const part = chunk.subarray(at, at + piece);
            due += part.length / bytesPerMs;
            queue.push(part, due);
          }
        },
        end: () => queue.push(null, Math.max(queue.lastDue, performance.now())),
        flush: () => queue.flush(),
        dispose: () => queue.dispose(),
      };
    },
  };
}
