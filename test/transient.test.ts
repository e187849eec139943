import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { ErrorRate } from '../src/patterns/transient.js';

describe('ErrorRate: the flaky scenario fails the same share of calls everywhere', () => {
  it('fails exactly one call in twenty at 5%, evenly spread, from a seeded starting point', () => {
    for (const seed of [1, 42, 99]) {
      const rate = new ErrorRate(seededRandom(seed));
      rate.set(0.05);
      const failed = Array.from({ length: 200 }, () => rate.fail()).map((f, i) => (f ? i : -1)).filter((i) => i >= 0);
      expect(failed).toHaveLength(10);
      // Every 20 calls, one: the gaps between failures are all 20.
      expect(failed.slice(1).map((x, i) => x - (failed[i] as number))).toEqual(Array(9).fill(20));
    }
  });

  it('fails nothing at 0 and everything at 1, and refuses a share outside 0..1', () => {
    const rate = new ErrorRate(seededRandom(3));
    expect(Array.from({ length: 50 }, () => rate.fail()).some(Boolean)).toBe(false);
    rate.set(1);
    expect(Array.from({ length: 50 }, () => rate.fail()).every(Boolean)).toBe(true);
    expect(() => rate.set(1.5)).toThrow('an error share is from 0 to 1, got 1.5');
    expect(() => rate.set(-0.1)).toThrow('an error share is from 0 to 1, got -0.1');
  });
});
