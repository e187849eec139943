import { performance } from 'node:perf_hooks';
import type { StageContext } from './types.js';

/** An entry is a chunk, or `null` for the source's half-close. */
type Entry = { readonly chunk: Buffer | null; readonly due: number };

/**
 * Chunks waiting for their release time (ms on the performance.now clock), released in
 * the order pushed: the base of `latency`, `bandwidth` and `slicer`. Callers push with
 * non-decreasing `due`, so order is never changed by a shorter delay. One timer, for the
 * head; a chunk due now with nothing ahead of it is forwarded at once.
 */
export class TimedQueue {
  private readonly entries: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(private readonly ctx: StageContext) {}

  /** When the last entry pushed is (or was) due: the earliest a new entry may be. */
  get lastDue(): number {
    return this.last;
  }

  push(chunk: Buffer | null, due: number): void {
    this.last = Math.max(this.last, due);
    if (this.head === this.entries.length && due <= performance.now()) {
      this.emit(chunk);
      return;
    }
    if (chunk) this.ctx.hold(chunk.length);
    this.entries.push({ chunk, due: this.last });
    if (!this.timer) this.arm();
  }

  /** Forward everything now, in order, and stop the timer. */
  flush(): void {
    this.stop();
    this.releaseUntil(Infinity);
  }

  dispose(): void {
    this.stop();
    this.entries.length = 0;
    this.head = 0;
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.entries[this.head];
    if (!next) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // setTimeout has 1 ms granularity: release what is due within it rather than re-arm for µs.
      this.releaseUntil(performance.now() + 1);
      this.arm();
    }, Math.max(0, next.due - performance.now()));
  }

  private releaseUntil(until: number): void {
    while (this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (!e || e.due > until) break;
      this.head++;
      if (e.chunk) this.ctx.release(e.chunk.length);
      this.emit(e.chunk);
    }
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    }
  }

  private emit(chunk: Buffer | null): void {
    if (chunk) this.ctx.forward(chunk);
    else this.ctx.end();
  }
}
