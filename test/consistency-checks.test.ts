/**
 * Read-your-writes checks (src/bench/load/consistency.ts) against constructed readers: what
 * counts as stale, how the time to consistency is measured, and what a check that never
 * sees its order leaves behind. Real timers; the assertions are bounds that hold however
 * late a timer fires.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ConsistencyChecks } from '../src/bench/load/consistency.js';
import type { OrderRecord } from '../src/workflow/orders.js';

const now = () => performance.now();

/** A read side that shows `orderId` CONFIRMED from `visibleAt` on (PENDING before), and counts its reads. */
function lagging(orderId: string, visibleAt: number) {
  const reads: number[] = [];
  const read = (): Promise<readonly OrderRecord[]> => {
    reads.push(now());
    return Promise.resolve([{ orderId, status: now() >= visibleAt ? 'CONFIRMED' : 'PENDING' }]);
  };
  return { read, reads };
}

describe('read-your-writes checks', () => {
  it('an order its first read shows is not stale, and its time to consistency is 0', async () => {
    const checks = new ConsistencyChecks(() => Promise.resolve([{ orderId: 'o-1', status: 'CANCELLED', reason: 'out_of_stock' }]), now);
    checks.start('c-1', 'o-1', 'CANCELLED', now());
    await checks.idle(5_000);
    const r = checks.result();
    expect(r).toMatchObject({ checked: 1, stale: 0, unresolved: 0, reReads: 0, readErrors: 0 });
    expect(r.timeToConsistency.count).toBe(1);
    // 0, kept as the histogram's floor of 1 µs.
    expect(r.timeToConsistency.max).toBeLessThanOrEqual(0.001);
  });

  it('an order shown 60 ms after it completed is stale, re-read with a growing backoff, and consistent no sooner than 60 ms', async () => {
    const completedAt = now();
    const side = lagging('o-2', completedAt + 60);
    const checks = new ConsistencyChecks(side.read, now);
    checks.start('c-2', 'o-2', 'CONFIRMED', completedAt);
    await checks.idle(5_000);
    const r = checks.result();
    expect(r).toMatchObject({ checked: 1, stale: 1, unresolved: 0, readErrors: 0 });
    expect(r.reReads).toBe(side.reads.length - 1);
    // The backoff doubles from 1 ms to its 16 ms cap: 1, 2, 4, 8, 16 … — about 8 reads in 60 ms, fewer when timers fire late, never one per millisecond.
    expect(side.reads.length).toBeGreaterThanOrEqual(2);
    expect(side.reads.length).toBeLessThanOrEqual(12);
    // TTC: from completion until the read that showed it was sent — which came after the order became visible.
    expect(r.timeToConsistency.count).toBe(1);
    expect(r.timeToConsistency.max).toBeGreaterThanOrEqual(59.9);
    expect(r.timeToConsistency.max).toBeCloseTo((side.reads.at(-1) ?? 0) - completedAt, 0);
  });

  it('a read that shows the order with another status than the one it ended with does not count as showing it', async () => {
    const checks = new ConsistencyChecks(() => Promise.resolve([{ orderId: 'o-3', status: 'CONFIRMED' }]), now, { firstBackoffMs: 1, maxBackoffMs: 2, boundMs: 30 });
    checks.start('c-3', 'o-3', 'CANCELLED', now());
    await checks.idle(5_000);
    expect(checks.result()).toMatchObject({ checked: 1, stale: 1, unresolved: 1 });
    expect(checks.result().timeToConsistency.count).toBe(0);
  });

  it('a failed read is tried again and is not a stale answer; an order never shown within the bound is unresolved', async () => {
    let calls = 0;
    const read = (): Promise<readonly OrderRecord[]> => (++calls === 1 ? Promise.reject(new Error('ECONNRESET')) : Promise.resolve([]));
    const checks = new ConsistencyChecks(read, now, { firstBackoffMs: 1, maxBackoffMs: 4, boundMs: 40 });
    checks.start('c-4', 'o-4', 'CONFIRMED', now());
    await checks.idle(5_000);
    const r = checks.result();
    expect(r).toMatchObject({ checked: 1, stale: 1, unresolved: 1, readErrors: 1 });
    expect(r.reReads).toBe(calls - 1);
    expect(calls).toBeGreaterThan(2);
  });

  it('a check whose only reads failed and then showed the order is not stale, and its time to consistency is the wait', async () => {
    let calls = 0;
    const read = (): Promise<readonly OrderRecord[]> => (++calls <= 2 ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve([{ orderId: 'o-5', status: 'CONFIRMED' }]));
    const checks = new ConsistencyChecks(read, now);
    const completedAt = now();
    checks.start('c-5', 'o-5', 'CONFIRMED', completedAt);
    await checks.idle(5_000);
    const r = checks.result();
    expect(r).toMatchObject({ checked: 1, stale: 0, unresolved: 0, readErrors: 2, reReads: 2 });
    // Two backoffs (1 ms, then 2 ms) before the read that showed it: the wait is in the figure, not 0.
    // (No tighter bound: libuv fires a timer by its millisecond loop clock, up to ~1 ms early by performance.now().)
    expect(r.timeToConsistency.max).toBeGreaterThan(0);
  });

  it('expire() ends the checks still running as unresolved, and records nothing after it', async () => {
    const checks = new ConsistencyChecks(() => Promise.resolve([]), now);
    checks.start('c-6', 'o-6', 'CONFIRMED', now());
    checks.start('c-7', 'o-7', 'CONFIRMED', now());
    await new Promise((resolve) => setTimeout(resolve, 20));
    checks.expire();
    await checks.idle(1_000);
    const r = checks.result();
    expect(r).toMatchObject({ checked: 2, stale: 2, unresolved: 2 });
    checks.start('c-8', 'o-8', 'CONFIRMED', now());
    expect(checks.result().checked).toBe(2);
  });
});
