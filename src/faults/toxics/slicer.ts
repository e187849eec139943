import { performance } from 'node:perf_hooks';
import { InvalidOptionError } from '../../errors.js';
import { numberAtLeast, resolveCommon } from './params.js';
import { TimedQueue } from './timed-queue.js';
import type { FaultCommon, Toxic } from './types.js';

export interface SlicerSpec extends FaultCommon {
  readonly type: 'slicer';
  /** Mean size of a slice, bytes (>= 1). */
  readonly averageSize: number;
  /** Each slice is averageSize ± up to sizeVariation bytes (uniform, seeded); default 0. */
  readonly sizeVariation?: number;
  /** Pause between two slices, µs; default 0. */
  readonly delayUs?: number;
}

/**
 * Cuts every chunk into small slices, with a pause between them: the reader sees a
 * message arrive in many reads (framing code that assumes one read = one message breaks).
 * No byte is lost or reordered. Removed: what is held is released at once, in order.
 */
export function slicer(spec: SlicerSpec): Toxic {
  const common = resolveCommon('slicer', spec);
  const averageSize = Math.round(numberAtLeast('slicer', 'averageSize', spec.averageSize, 1));
  const sizeVariation = Math.round(numberAtLeast('slicer', 'sizeVariation', spec.sizeVariation, 0, 0));
  const delayUs = numberAtLeast('slicer', 'delayUs', spec.delayUs, 0, 0);
  if (sizeVariation >= averageSize) {
    throw new InvalidOptionError('fault slicer.sizeVariation', sizeVariation, `a number < averageSize (${averageSize})`);
  }
  const delayMs = delayUs / 1000;
  return {
    type: 'slicer',
    ...common,
    params: { averageSize, sizeVariation, delayUs },
    stage(ctx) {
      const queue = new TimedQueue(ctx);
      const size = () => (sizeVariation > 0 ? averageSize + ctx.random.int(-sizeVariation, sizeVariation) : averageSize);
      return {
        write(chunk) {
          // The first slice of a chunk also waits one pause after the last slice of the one before.
          let due = Math.max(queue.lastDue + delayMs, performance.now());
          for (let at = 0; at < chunk.length; ) {
            const part = chunk.subarray(at, at + size());
            at += part.length;
            queue.push(part, due);
            due += delayMs;
          }
        },
        end: () => queue.push(null, Math.max(queue.lastDue, performance.now())),
        flush: () => queue.flush(),
        dispose: () => queue.dispose(),
      };
    },
  };
}
