/** The load generator's tests on a fake clock: which timers are faked, the clock, and how to drive it. */
import { afterEach, beforeEach, vi } from 'vitest';

/** Fake every timer and the global `performance` for each test of the file that calls this. */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** The fake clock (the global performance is faked; perf_hooks' import is not). */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Advance the fake clock until `p` settles. */
export async function drive<T>(p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) await vi.advanceTimersByTimeAsync(10);
  return p;
}
