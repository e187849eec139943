/**
 * The load generator on a fake clock: timers and performance.now() are vitest's, so every
 * figure that depends on time is exact (no wall-clock thresholds on a shared machine).
 */
import { describe, expect, it, vi } from 'vitest';
import { drive, now, sleep, useFakeClock } from './support/fake-clock.js';
import { runLoad, type LoadTarget } from '../src/bench/loadgen.js';
import { OpenLoopGrid, waitUntil } from '../src/bench/load/schedule.js';
import { LoadWindow, segmentOf } from '../src/bench/load/window.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';

const generator = () => {
  const gen = new OrderGenerator(seededRandom(1));
  return () => gen.next();
};
const confirm = (order: OrderRequest): OrderOutcome => ({ orderId: order.orderId, status: 'CONFIRMED' });

useFakeClock();

/** A target that answers at once, except one call (after `stallAfterMs`) that takes `stallMs`. */
function stallingTarget(stallAfterMs: number, stallMs: number): LoadTarget {
  const start = now();
  let stalled = false;
  return {
    async placeOrder(order) {
      if (!stalled && now() - start >= stallAfterMs) {
        stalled = true;
        await sleep(stallMs);
      }
      return confirm(order);
    },
  };
}

describe('open loop and coordinated omission', () => {
  // One order at a time (like a single connection): while one order stalls for 500 ms the
  // orders scheduled behind it cannot start. Timed from their intended start they show
  // the wait; timed from when they were finally sent, the stall hides in one sample.
  const shape = { kind: 'open', rate: 1000, maxInFlight: 1 } as const;

  it('with correction, p99 reflects a 500 ms stall', async () => {
    const r = await drive(runLoad(stallingTarget(500, 500), { shape, warmupMs: 0, durationMs: 2000, nextOrder: generator(), now }));
    expect(r.latency.p99).toBeGreaterThanOrEqual(400);
    expect(r.latency.max).toBe(500);
  });

  it('without correction, the same stall hides below p99', async () => {
    const r = await drive(
      runLoad(stallingTarget(500, 500), { shape, warmupMs: 0, durationMs: 2000, nextOrder: generator(), correctCoordinatedOmission: false, now }),
    );
    expect(r.latency.max).toBe(500); // the one stalled order
    expect(r.latency.p99).toBeLessThan(50);
  });

  it('holds its rate and reports offered, achieved and scheduler lateness', async () => {
    const r = await drive(runLoad({ placeOrder: async (o) => confirm(o) }, { shape: { kind: 'open', rate: 2000 }, warmupMs: 200, durationMs: 1500, nextOrder: generator(), now }));
    expect(r.throughput.target).toBe(2000);
    expect(r.throughput.offered).toBe(2000);
    // One order each side of the window's edges may complete in the next millisecond.
    expect(Math.abs(r.completedInWindow - 3000)).toBeLessThanOrEqual(1);
    expect(r.throughput.achieved).toBe(r.completedInWindow / 1.5);
    expect(r.schedulerLateness?.count).toBe(3000);
    expect(r.outcomes.placed).toBe(3000);
    // Warm-up orders are placed (the checker needs them) but not recorded.
    expect(r.placed.size).toBe(3400);
    expect(r.latency.count).toBe(3000);
  });
});

describe('every order of the window is in its latency', () => {
  it('failed and timed-out orders too: count = placed, timed-out orders are lower bounds at the drain deadline', async () => {
    const t0 = now();
    let n = 0;
    const calls: number[] = [];
    const hung: number[] = [];
    const target: LoadTarget = {
      async placeOrder(o) {
        const t = now();
        calls.push(t);
        n++;
        if (n % 4 === 0) {
          hung.push(t);
          return new Promise<OrderOutcome>(() => {});
        }
        await sleep(n % 4);
        if (n % 4 === 1) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        if (n % 4 === 2) return { orderId: o.orderId, status: 'CANCELLED', reason: 'downstream_error' };
        return confirm(o);
      },
    };
    const r = await drive(
      runLoad(target, {
        shape: { kind: 'open', rate: 200 },
        warmupMs: 50,
        durationMs: 1000,
        drainTimeoutMs: 100,
        nextOrder: generator(),
        now,
        segments: [
          { name: 'before', fromMs: 0, toMs: 500 },
          { name: 'during', fromMs: 500, toMs: 1000, claimsOverlapping: true },
        ],
      }),
    );
    const { placed, confirmed, cancelled, failed, timedOut } = r.outcomes;
    expect(placed).toBe(200);
    expect(confirmed + cancelled + failed + timedOut).toBe(placed);
    expect(r.latency.count).toBe(placed);
    expect(timedOut).toBe(50);
    expect(r.latency.lowerBounds).toBe(timedOut);
    expect(r.failedLatency?.count).toBe(failed + timedOut);
    expect(r.failedLatency?.lowerBounds).toBe(timedOut);
    expect((r.errors.ECONNREFUSED ?? 0) + (r.errors.downstream_error ?? 0)).toBe(failed);
    // The drain ran out 100 ms after the last order started; the oldest hung order of the window waited until then.
    const deadline = Math.max(...calls) + 100;
    const firstHung = Math.min(...hung.filter((t) => t >= t0 + 50));
    expect(r.latency.max).toBe(deadline - firstHung);
    expect(r.segments.reduce((a, s) => a + s.placed, 0)).toBe(placed);
    expect(r.segments.reduce((a, s) => a + s.failed, 0)).toBe(failed + timedOut);
    // The timeline's p99 is of the orders that started in each slice: every slice has a hung one.
    expect(r.timeline.every((p) => (p.p99Ms ?? 0) > 100)).toBe(true);
  });

  it('gives up on orders that never settle after the drain timeout and counts them', async () => {
    const target: LoadTarget = { placeOrder: () => new Promise<OrderOutcome>(() => {}) };
    const r = await drive(runLoad(target, { shape: { kind: 'closed', concurrency: 3 }, warmupMs: 0, durationMs: 100, drainTimeoutMs: 100, nextOrder: generator(), now }));
    expect(r.outcomes).toMatchObject({ placed: 3, timedOut: 3, confirmed: 0 });
    // All three started as the window opened and were recorded when the drain gave up, 200 ms later.
    expect(r.latency).toMatchObject({ count: 3, lowerBounds: 3, max: 200, p50: 200 });
    expect(r.cost.cpuMicrosPerOrder).toBeNull();
  });
});

describe('achieved and cost per order', () => {
  // 100 orders/s, each taking 150 ms; warm-up 100 ms, window 1 s. Started k × 10 ms after
  // the load began, an order completes at 10k + 150: in the window [100, 1100) for k = 0…94,
  // warm-up orders included. The window's own orders are k = 10…109.
  const slowTarget: LoadTarget = {
    async placeOrder(o) {
      await sleep(150);
      return confirm(o);
    },
  };

  it('achieved counts completions inside the window, whenever they started; outcomes count the window’s starts', async () => {
    const r = await drive(runLoad(slowTarget, { shape: { kind: 'open', rate: 100 }, warmupMs: 100, durationMs: 1000, nextOrder: generator(), now }));
    expect(r.completedInWindow).toBe(95);
    expect(r.throughput.achieved).toBe(95);
    expect(r.outcomes).toMatchObject({ placed: 100, confirmed: 100 });
    expect(r.latency.count).toBe(100);
    expect(r.latency.p50).toBe(150);
  });

  it('CPU per order divides the window’s CPU by the orders achieved counts: 300 ms of CPU over the 1 s window and its 95 completions', async () => {
    // A CPU clock of the test's own, on the fake clock: 300 µs of CPU per ms (user 200, system 100), so the window holds exactly 300,000 µs.
    const cpuAt = (): NodeJS.CpuUsage => ({ user: now() * 200, system: now() * 100 });
    const cpuUsage = (since?: NodeJS.CpuUsage): NodeJS.CpuUsage => {
      const at = cpuAt();
      return since ? { user: at.user - since.user, system: at.system - since.system } : at;
    };
    const r = await drive(runLoad(slowTarget, { shape: { kind: 'open', rate: 100 }, warmupMs: 100, durationMs: 1000, nextOrder: generator(), now, cpuUsage }));
    expect(r.completedInWindow).toBe(95);
    expect(r.cost.cpuMicrosPerOrder).toBeCloseTo(300_000 / 95, 6);
  });
});

describe('closed loop', () => {
  it('keeps `concurrency` orders in flight and records only the window', async () => {
    let inFlight = 0;
    let peak = 0;
    const target: LoadTarget = {
      async placeOrder(o) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(2);
        inFlight--;
        return confirm(o);
      },
    };
    const r = await drive(runLoad(target, { shape: { kind: 'closed', concurrency: 8 }, warmupMs: 100, durationMs: 500, nextOrder: generator(), now }));
    expect(peak).toBe(8);
    expect(r.throughput.offered).toBeNull();
    expect(r.outcomes.placed).toBe(r.latency.count);
    expect(r.placed.size).toBeGreaterThan(r.outcomes.placed);
    expect(r.latency.p50).toBe(2);
    expect(r.throughput.achieved).toBe(r.completedInWindow / 0.5);
    expect(r.completedInWindow).toBeGreaterThan(0);
    expect(r.timeline).toHaveLength(5);
    expect(r.timelineBucketMs).toBe(100);
  });

  it('a surge multiplies the orders in flight for its part of the window only', async () => {
    let inFlight = 0;
    const samples: [number, number][] = [];
    const started = now();
    const target: LoadTarget = {
      async placeOrder(o) {
        inFlight++;
        samples.push([now() - started, inFlight]);
        await sleep(2);
        inFlight--;
        return confirm(o);
      },
    };
    const r = await drive(
      runLoad(target, {
        shape: { kind: 'closed', concurrency: 4 },
        warmupMs: 0,
        durationMs: 600,
        nextOrder: generator(),
        now,
        surges: [{ fromMs: 200, toMs: 400, multiplier: 3 }],
        segments: [
          { name: 'before', fromMs: 0, toMs: 200 },
          { name: 'during', fromMs: 200, toMs: 400 },
        ],
      }),
    );
    const peak = (from: number, to: number) => Math.max(...samples.filter(([t]) => t >= from && t < to).map(([, n]) => n));
    expect(peak(50, 190)).toBe(4);
    expect(peak(250, 390)).toBe(12);
    expect(peak(450, 590)).toBe(4);
    expect(r.segments.map((seg) => seg.name)).toEqual(['before', 'during']);
    expect(r.segments[1]?.placed).toBeGreaterThan((r.segments[0]?.placed ?? 0) * 2);
  });

  it('an order in flight when the fault segment begins counts as disturbed (during), not before', async () => {
    // Orders answer in 1 ms, except those started in the 100 ms before the fault begins:
    // they are held until the fault is over, as a service going down would hold them.
    const windowOpens = now();
    const target: LoadTarget = {
      async placeOrder(order) {
        const t = now() - windowOpens;
        await sleep(t >= 200 && t < 300 ? 600 - t : 1);
        return confirm(order);
      },
    };
    const r = await drive(
      runLoad(target, {
        shape: { kind: 'closed', concurrency: 2 },
        warmupMs: 0,
        durationMs: 900,
        nextOrder: generator(),
        now,
        segments: [
          { name: 'before', fromMs: 0, toMs: 300 },
          { name: 'during', fromMs: 300, toMs: 600, claimsOverlapping: true },
          { name: 'after', fromMs: 600, toMs: 900 },
        ],
      }),
    );
    const [before, during] = r.segments;
    // The held orders (started at 200 ms, answered at 600) are during's: before keeps only the quick ones.
    expect(during?.latency.max).toBe(400);
    expect(before?.latency.max).toBe(1);
    expect(r.segments.reduce((n, seg) => n + seg.placed, 0)).toBe(r.outcomes.placed);
  });

  it('counts failures by code and cancellations apart from confirmations', async () => {
    let n = 0;
    const target: LoadTarget = {
      async placeOrder(o) {
        n++;
        await sleep(1);
        if (n % 3 === 0) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        if (n % 3 === 1) return { orderId: o.orderId, status: 'CANCELLED', reason: 'out_of_stock' };
        return confirm(o);
      },
    };
    const r = await drive(runLoad(target, { shape: { kind: 'closed', concurrency: 1 }, warmupMs: 0, durationMs: 200, nextOrder: generator(), now }));
    const { confirmed, cancelled, failed, placed } = r.outcomes;
    expect(confirmed + cancelled + failed).toBe(placed);
    expect(failed).toBe(r.errors.ECONNREFUSED);
    expect(Math.abs(failed - confirmed)).toBeLessThanOrEqual(1);
    expect(r.placed.acceptedIds().size).toBe(r.placed.size - failed);
    // Rejections are in the latency too, at the moment they failed.
    expect(r.latency.count).toBe(placed);
    expect(r.failedLatency?.count).toBe(failed);
  });

  it('stops early on abort and says so', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = now();
    let last = started;
    const r = await drive(
      runLoad(
        { placeOrder: async (o) => ((last = now()), await sleep(1), confirm(o)) },
        { shape: { kind: 'closed', concurrency: 2 }, warmupMs: 0, durationMs: 10_000, nextOrder: generator(), now, signal: controller.signal },
      ),
    );
    expect(r.aborted).toBe(true);
    expect(last - started).toBeLessThanOrEqual(100);
  });
});

describe('schedule and window, the pure parts', () => {
  it('the open-loop grid is anchored, and re-anchors where a surge changes the rate', () => {
    // 1000/s from 0; twice that from 3 ms to 5 ms.
    const grid = new OpenLoopGrid(0, 1000, (t) => (t >= 3 && t < 5 ? 2 : 1));
    const starts = Array.from({ length: 9 }, () => grid.take());
    expect(starts).toEqual([0, 1, 2, 3, 3.5, 4, 4.5, 5, 6]);
  });

  it('the precise timer fires when the clock reaches the moment, never at once', async () => {
    const t0 = now();
    const fired: [string, number][] = [];
    waitUntil(now, t0 + 7, () => fired.push(['later', now() - t0]));
    waitUntil(now, t0 - 1, () => fired.push(['past', now() - t0]));
    const cancel = waitUntil(now, t0 + 5, () => fired.push(['cancelled', now() - t0]));
    cancel();
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toEqual([
      ['past', 0],
      ['later', 7],
    ]);
  });

  it('a start on a slice or window boundary belongs to what it opens', () => {
    const w = new LoadWindow(1000, 100, 3000);
    expect([w.start, w.end, w.sliceMs, w.slices]).toEqual([1100, 4100, 100, 30]);
    expect(w.inWindow(1100 - 1e-9)).toBe(true);
    expect(w.inWindow(4100 - 1e-9)).toBe(false);
    expect(w.sliceOf(1100 + 300 - 1e-9)).toBe(3);
    expect(w.sliceOf(9999)).toBe(29);
    const segs = [
      { fromMs: 0, toMs: 1000 },
      { fromMs: 1000, toMs: 2000, claimsOverlapping: true },
    ];
    expect(segmentOf(segs, 1100, 1500, 1600)).toBe(0);
    expect(segmentOf(segs, 1100, 1500, 2200)).toBe(1); // in flight when the fault began
    expect(segmentOf(segs, 1100, 3500, 3600)).toBe(-1);
  });
});
