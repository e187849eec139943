/**
 * The mixed workload (`--read-share`) in the load generator, on a fake clock: which
 * operations are reads, whose orders they read, and that they stay out of the orders' figures.
 */
import { describe, expect, it, vi } from 'vitest';
import { drive, now, sleep, useFakeClock } from './support/fake-clock.js';
import { runLoad, type LoadShape, type LoadTarget, type ReadMix } from '../src/bench/loadgen.js';
import { seededRandom, type Random } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { OrderRequest } from '../src/workflow/types.js';

useFakeClock();

/**
 * A target whose orders answer at once and whose reads take `readMs` and show the customer's
 * confirmed orders (so every read-your-writes check is answered by its first read), keeping
 * who ordered and whose orders were read.
 */
function fakeSystem(readMs = 0) {
  const ordered = new Map<string, OrderRecord[]>();
  const readOf: string[] = [];
  const target: LoadTarget = {
    placeOrder(order: OrderRequest) {
      ordered.set(order.customerId, [...(ordered.get(order.customerId) ?? []), { orderId: order.orderId, status: 'CONFIRMED' }]);
      return Promise.resolve({ orderId: order.orderId, status: 'CONFIRMED' });
    },
  };
  const mix = (share: number, random: Random = seededRandom(7)): ReadMix => ({
    share,
    random,
    async read(customerId) {
      // Whose orders: someone who ordered before this read started.
      readOf.push(ordered.has(customerId) ? customerId : `stranger:${customerId}`);
      if (readMs > 0) await sleep(readMs);
      return ordered.get(customerId) ?? [];
    },
  });
  return { target, mix, ordered, readOf };
}

const nextOrder = () => {
  const gen = new OrderGenerator(seededRandom(1));
  return () => gen.next();
};

/** Binomial bounds that a fair draw never leaves: n·p ± 6σ. */
function sixSigma(n: number, p: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - 6 * sd, n * p + 6 * sd];
}

describe('the mixed workload in the load generator', () => {
  const open: LoadShape = { kind: 'open', rate: 1000 };

  it('splits the open loop\'s operations near half and half at share 0.5', async () => {
    const sys = fakeSystem();
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 2000, nextOrder: nextOrder(), now, reads: sys.mix(0.5) }));
    const reads = r.reads;
    expect(reads).not.toBeNull();
    const ops = (reads?.placed ?? 0) + r.outcomes.placed;
    expect(ops).toBe(2000);
    const [low, high] = sixSigma(ops, 0.5);
    expect(reads?.placed).toBeGreaterThan(low);
    expect(reads?.placed).toBeLessThan(high);
    expect(reads?.completed).toBe(reads?.placed);
    expect(reads?.failed).toBe(0);
    expect(reads?.latency.count).toBe(reads?.placed);
  });

  it('keeps reads out of the PlacedLog and the orders\' figures', async () => {
    const sys = fakeSystem();
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 2000, nextOrder: nextOrder(), now, reads: sys.mix(0.5) }));
    expect(r.placed.size).toBe(r.outcomes.placed);
    expect(r.outcomes.confirmed).toBe(r.outcomes.placed);
    expect(r.latency.count).toBe(r.outcomes.placed);
    expect(r.completedInWindow).toBeLessThanOrEqual(r.outcomes.placed);
    // Every read is the mix's or a completed order's check (its first read shows it: no re-reads).
    expect(r.reads?.consistency).toMatchObject({ checked: r.outcomes.placed, stale: 0, reReads: 0, unresolved: 0 });
    expect(sys.readOf.length).toBe((r.reads?.placed ?? 0) + (r.reads?.consistency.checked ?? 0));
  });

  it('reads only the orders of customers who have placed one', async () => {
    const sys = fakeSystem();
    await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 1000, nextOrder: nextOrder(), now, reads: sys.mix(0.9) }));
    expect(sys.readOf.length).toBeGreaterThan(0);
    expect(sys.readOf.filter((id) => id.startsWith('stranger:'))).toEqual([]);
  });

  it('places an order first when no customer has ordered yet, even at share 0.99', async () => {
    const sys = fakeSystem();
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 100, nextOrder: nextOrder(), now, reads: sys.mix(0.99) }));
    expect(r.outcomes.placed).toBeGreaterThanOrEqual(1);
    expect(sys.ordered.size).toBeGreaterThanOrEqual(1);
  });

  it('times reads from their intended start into their own histogram', async () => {
    const sys = fakeSystem(5);
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 1000, nextOrder: nextOrder(), now, reads: sys.mix(0.5) }));
    expect(r.reads?.latency.p50).toBe(5);
    expect(r.reads?.latency.max).toBe(5);
    expect(r.latency.max).toBeLessThan(1); // orders answer at once: the 5 ms reads are not in their histogram
    // Answered inside the window: all but those that started in its last 5 ms.
    expect(r.reads?.perSecond).toBeGreaterThan((r.reads?.placed ?? 0) - 10);
  });

  it('mixes reads into a closed loop too, each worker\'s next operation drawn', async () => {
    const sys = fakeSystem(1);
    const r = await drive(runLoad(sys.target, { shape: { kind: 'closed', concurrency: 4 }, warmupMs: 0, durationMs: 500, nextOrder: nextOrder(), now, reads: sys.mix(0.5) }));
    const reads = r.reads?.placed ?? 0;
    const [low, high] = sixSigma(reads + r.outcomes.placed, 0.5);
    expect(reads).toBeGreaterThan(low);
    expect(reads).toBeLessThan(high);
    expect(r.placed.size).toBe(r.outcomes.placed);
  });

  it('counts a failed read as failed, apart from the orders\' errors', async () => {
    const sys = fakeSystem();
    const mix: ReadMix = { ...sys.mix(0.5), read: () => Promise.reject(new Error('read side down')), readYourWrites: { firstBackoffMs: 1, maxBackoffMs: 4, boundMs: 20 } };
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 500, nextOrder: nextOrder(), now, reads: mix }));
    expect(r.reads?.failed).toBe(r.reads?.placed);
    expect(r.reads?.completed).toBe(0);
    expect(r.outcomes.failed).toBe(0);
    expect(r.errors).toEqual({});
    // The checks' reads fail too: no order is ever shown, none counts as a stale answer, each is unresolved at its bound.
    const c = r.reads?.consistency;
    expect(c).toMatchObject({ checked: r.outcomes.placed, stale: 0, unresolved: r.outcomes.placed });
    expect(c?.readErrors).toBe((c?.checked ?? 0) + (c?.reReads ?? 0));
    expect(c?.reReads).toBeGreaterThanOrEqual(3 * (c?.checked ?? 0));
  });

  it('at share 0 draws nothing and reports no reads', async () => {
    const sys = fakeSystem();
    const random = seededRandom(3);
    const spy = { next: vi.fn(() => random.next()), int: vi.fn(() => 0), chance: vi.fn(() => false), fork: () => random };
    const r = await drive(runLoad(sys.target, { shape: open, warmupMs: 0, durationMs: 200, nextOrder: nextOrder(), now, reads: sys.mix(0, spy) }));
    expect(r.reads).toBeNull();
    expect(spy.chance).not.toHaveBeenCalled();
    expect(spy.int).not.toHaveBeenCalled();
    expect(sys.readOf).toEqual([]);
    expect(r.outcomes.placed).toBe(200);
  });
});
