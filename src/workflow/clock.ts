/**
 * Now, in ms since the epoch, fractional: `performance.timeOrigin + performance.now()`.
 * Comparable across worker threads (each has its own `timeOrigin`, on the same epoch),
 * which is what lets a journey put the client's and every service's effects on one line.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Where the services read the time of each effect they record (the journeys of broken
 * invariants). `null` records no time: every `at` is 0 and orders keep no history — only
 * `bench/journal-cost.ts` uses it, to measure what recording costs.
 */
export type Clock = (() => number) | null;
