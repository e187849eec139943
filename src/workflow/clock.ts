// Read once per thread: looking up the global and its timeOrigin cost a fifth of the clock read.
const PERF = performance;
const ORIGIN = PERF.timeOrigin;

/**
 * Now, in ms since the epoch, fractional: `performance.timeOrigin + performance.now()`.
 * Comparable across worker threads (each has its own `timeOrigin`, on the same epoch),
 * which is what lets a journey put the client's and every service's effects on one line.
 */
export function epochMs(): number {
  return ORIGIN + PERF.now();
}

/**
 * Where the services read the time of each effect they record (the journeys of broken
 * invariants). `null` records no time (the snapshot has no `at`, no history, no
 * notifications log): capacity runs' services (see `setJournal`), and `bench/journal-cost.ts`,
 * to measure what recording costs.
 */
export type Clock = (() => number) | null;

let journal = true;

/**
 * Whether services built on this thread from now on record their effects' times: the
 * component host sets it from each component's start (a run asks the same of all of its).
 */
export function setJournal(on: boolean): void {
  journal = on;
}

/** The clock a service built now records with: `epochMs`, or null while the journal is off. */
export function effectClock(): Clock {
  return journal ? epochMs : null;
}

/**
 * Times of effects, one per index, in a Float64Array that doubles when full: no object and
 * no boxed number per effect, nothing for the garbage collector to trace (a time field on
 * each record cost more than the clock itself: bench:journal). Without a clock it keeps
 * nothing and every time reads as undefined.
 */
export class TimeColumn {
  private values = new Float64Array(256);
  private size = 0;

  constructor(private readonly clock: Clock) {}

  /** Append the time now (0 with `empty`: a slot for a later `stampAt`). */
  stamp(empty = false): void {
    if (!this.clock) return;
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = empty ? 0 : this.clock();
  }

  /** Set the time of slot `index` (appended already) to now. */
  stampAt(index: number): void {
    if (this.clock && index < this.size) this.values[index] = this.clock();
  }

  /** The time at `index`, epoch ms, or undefined (none recorded). */
  at(index: number): number | undefined {
    const v = index < this.size ? this.values[index] : undefined;
    return v === undefined || v === 0 ? undefined : v;
  }
}
