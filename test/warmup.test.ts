import { describe, expect, it } from 'vitest';
import { isSettled, warmUntilSettled } from '../src/bench/warmup.js';
import { PlacedLog } from '../src/bench/placed.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';

describe('warm-up: until throughput stops climbing', () => {
  it('is not settled while the mean keeps rising, nor before two windows of slices', () => {
    expect(isSettled([100, 100, 100, 100, 100], 3, 0.05)).toBe(false); // five slices: one window short
    expect(isSettled([200, 250, 300, 350, 400, 450], 3, 0.05)).toBe(false); // still climbing: 400 vs 250
    expect(isSettled([300, 320, 310, 305, 315, 300], 3, 0.05)).toBe(true); // 306.7 vs 310: flat
  });

  it('takes noise without a trend as settled, and a late climb as not', () => {
    expect(isSettled([500, 420, 580, 460, 560, 480], 3, 0.05)).toBe(true); // means 500 and 500
    expect(isSettled([500, 500, 500, 520, 560, 600], 3, 0.05)).toBe(false); // means 500 and 560
    expect(isSettled([0, 0, 0, 0, 0, 0], 3, 0.05)).toBe(false); // nothing completes: not warm
  });

  it('drives the target at least minMs, records every order it placed, and stops at maxMs when it never settles', async () => {
    const gen = new OrderGenerator(seededRandom(3));
    const log = new PlacedLog();
    let calls = 0;
    // Each slice completes more than the last: the mean never flattens.
    const climbing = { placeOrder: async (o: { orderId: string }) => {
      calls++;
      await new Promise((r) => setTimeout(r, Math.max(0, 8 - calls / 20)));
      return { orderId: o.orderId, status: 'CONFIRMED' as const };
    } };
    const r = await warmUntilSettled(climbing, { kind: 'closed', concurrency: 4 }, () => gen.next(), log, { minMs: 100, maxMs: 600, sliceMs: 100 });
    expect(r.settled).toBe(false);
    expect(r.warmupMs).toBe(600);
    expect(r.slices).toHaveLength(6);
    expect(log.size).toBe(calls);
    expect(log.acceptedIds().size).toBe(calls);
  });
});
