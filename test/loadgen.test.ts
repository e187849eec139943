import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runLoad, type LoadTarget } from '../src/bench/loadgen.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';

const generator = () => {
  const gen = new OrderGenerator(seededRandom(1));
  return () => gen.next();
};
const confirm = (order: OrderRequest): OrderOutcome => ({ orderId: order.orderId, status: 'CONFIRMED' });

/** A target that answers at once, except one call (after `stallAfterMs`) that takes `stallMs`. */
function stallingTarget(stallAfterMs: number, stallMs: number): LoadTarget {
  const start = performance.now();
  let stalled = false;
  return {
    async placeOrder(order) {
      if (!stalled && performance.now() - start >= stallAfterMs) {
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
    const r = await runLoad(stallingTarget(500, 500), { shape, warmupMs: 0, durationMs: 2000, nextOrder: generator() });
    expect(r.latency.p99).toBeGreaterThanOrEqual(400);
    expect(r.latency.max).toBeGreaterThanOrEqual(480);
  });

  it('without correction, the same stall hides below p99', async () => {
    const r = await runLoad(stallingTarget(500, 500), {
      shape,
      warmupMs: 0,
      durationMs: 2000,
      nextOrder: generator(),
      correctCoordinatedOmission: false,
    });
    expect(r.latency.max).toBeGreaterThanOrEqual(480); // the one stalled order
    expect(r.latency.p99).toBeLessThan(50);
  });

  it('holds its rate and reports offered, achieved and scheduler lateness', async () => {
    const r = await runLoad({ placeOrder: async (o) => confirm(o) }, { shape: { kind: 'open', rate: 2000 }, warmupMs: 200, durationMs: 1500, nextOrder: generator() });
    expect(r.throughput.target).toBe(2000);
    expect(r.throughput.achieved).toBeGreaterThan(2000 * 0.97);
    expect(r.throughput.achieved).toBeLessThan(2000 * 1.03);
    expect(r.throughput.offered).toBeGreaterThan(2000 * 0.97);
    expect(r.schedulerLateness?.count).toBeGreaterThan(2500);
    expect(r.outcomes.placed).toBe(3000);
    // Warm-up orders are placed (the checker needs them) but not recorded.
    expect(r.placed.size).toBe(3400);
    expect(r.latency.count).toBe(3000);
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
    const r = await runLoad(target, { shape: { kind: 'closed', concurrency: 8 }, warmupMs: 100, durationMs: 500, nextOrder: generator() });
    expect(peak).toBe(8);
    expect(r.throughput.offered).toBeNull();
    expect(r.outcomes.placed).toBe(r.latency.count);
    expect(r.placed.size).toBeGreaterThan(r.outcomes.placed);
    expect(r.latency.p50).toBeGreaterThanOrEqual(2);
    expect(r.throughput.achieved).toBeGreaterThan(0);
    expect(r.timeline).toHaveLength(5);
    expect(r.timelineBucketMs).toBe(100);
  });

  it('a surge multiplies the orders in flight for its part of the window only', async () => {
    let inFlight = 0;
    const samples: [number, number][] = [];
    const started = performance.now();
    const target: LoadTarget = {
      async placeOrder(o) {
        inFlight++;
        samples.push([performance.now() - started, inFlight]);
        await sleep(2);
        inFlight--;
        return confirm(o);
      },
    };
    const r = await runLoad(target, {
      shape: { kind: 'closed', concurrency: 4 },
      warmupMs: 0,
      durationMs: 600,
      nextOrder: generator(),
      surges: [{ fromMs: 200, toMs: 400, multiplier: 3 }],
      segments: [
        { name: 'before', fromMs: 0, toMs: 200 },
        { name: 'during', fromMs: 200, toMs: 400 },
      ],
    });
    const peak = (from: number, to: number) => Math.max(...samples.filter(([t]) => t >= from && t < to).map(([, n]) => n));
    expect(peak(50, 190)).toBe(4);
    expect(peak(250, 390)).toBe(12);
    expect(peak(450, 590)).toBe(4);
    expect(r.segments.map((seg) => seg.name)).toEqual(['before', 'during']);
    expect(r.segments[1]?.placed).toBeGreaterThan((r.segments[0]?.placed ?? 0) * 2);
  });

  it('an order in flight when the fault segment begins counts as disturbed (during), not before', async () => {
    // Orders answer at once, except those started in the 100 ms before the fault begins:
    // they are held until the fault is over, as a service going down would hold them.
    const windowOpens = performance.now();
    const target: LoadTarget = {
      async placeOrder(order) {
        const t = performance.now() - windowOpens;
        if (t >= 200 && t < 300) await sleep(600 - t);
        return confirm(order);
      },
    };
    const r = await runLoad(target, {
      shape: { kind: 'closed', concurrency: 2 },
      warmupMs: 0,
      durationMs: 900,
      nextOrder: generator(),
      segments: [
        { name: 'before', fromMs: 0, toMs: 300 },
        { name: 'during', fromMs: 300, toMs: 600, claimsOverlapping: true },
        { name: 'after', fromMs: 600, toMs: 900 },
      ],
    });
    const [before, during] = r.segments;
    // The held orders (started before 300 ms, answered at 600) are during's: before keeps only the quick ones.
    expect(during?.latency.max).toBeGreaterThanOrEqual(290);
    expect(before?.latency.max).toBeLessThan(during?.latency.max ?? 0);
    expect(before?.latency.p99).toBeLessThan(290);
    expect(r.segments.reduce((n, seg) => n + seg.placed, 0)).toBe(r.outcomes.placed);
  });

  it('counts failures by code and cancellations apart from confirmations', async () => {
    let n = 0;
    const target: LoadTarget = {
      async placeOrder(o) {
        n++;
        if (n % 3 === 0) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        if (n % 3 === 1) return { orderId: o.orderId, status: 'CANCELLED', reason: 'out_of_stock' };
        return confirm(o);
      },
    };
    const r = await runLoad(target, { shape: { kind: 'closed', concurrency: 1 }, warmupMs: 0, durationMs: 200, nextOrder: generator() });
    const { confirmed, cancelled, failed, placed } = r.outcomes;
    expect(confirmed + cancelled + failed).toBe(placed);
    expect(failed).toBe(r.errors.ECONNREFUSED);
    expect(Math.abs(failed - confirmed)).toBeLessThanOrEqual(1);
    expect(r.placed.acceptedIds().size).toBe(r.placed.size - failed);
  });

  it('stops early on abort and says so', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const r = await runLoad({ placeOrder: async (o) => (await sleep(1), confirm(o)) }, {
      shape: { kind: 'closed', concurrency: 2 },
      warmupMs: 0,
      durationMs: 10_000,
      nextOrder: generator(),
      signal: controller.signal,
    });
    expect(r.aborted).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('gives up on orders that never settle after the drain timeout and counts them', async () => {
    const target: LoadTarget = { placeOrder: () => new Promise<OrderOutcome>(() => {}) };
    const r = await runLoad(target, { shape: { kind: 'closed', concurrency: 3 }, warmupMs: 0, durationMs: 100, drainTimeoutMs: 100, nextOrder: generator() });
    expect(r.outcomes).toMatchObject({ placed: 3, timedOut: 3, confirmed: 0 });
  });
});
