import { performance } from 'node:perf_hooks';
import { ORDER_STREAM_PREFIX } from './events.js';

/**
 * When each order event was handed to the store (`performance.now()`, ms), so that the
 * projection measures its lag with a sub-millisecond clock: from the append call to the
 * event being applied to the read model. The store's own `recordedAt` has 1 ms resolution
 * (and, on PostgreSQL, another clock); it is the fallback for events appended elsewhere.
 * An entry lives until the projection takes it.
 */
export class AppendClock {
  private readonly marks = new Map<string, number>();

  mark(stream: string, firstVersion: number, count: number): void {
    if (!stream.startsWith(ORDER_STREAM_PREFIX)) return;
    const t = performance.now();
    for (let v = firstVersion; v < firstVersion + count; v++) this.marks.set(`${stream}@${v}`, t);
  }

  /** ms from the append call to now, or undefined when this process did not append it. */
  take(stream: string, version: number): number | undefined {
    const key = `${stream}@${version}`;
    const t = this.marks.get(key);
    if (t === undefined) return undefined;
    this.marks.delete(key);
    return performance.now() - t;
  }
}
