import { describe, expect, it } from 'vitest';
import { mannWhitneyU, smallestP } from '../src/bench/utest.js';

// Expected values are scipy.stats.mannwhitneyu(a, b, alternative='two-sided') with the
// method named (scipy 1.17); its statistic is U of the first sample, as ours.
describe('mannWhitneyU, exact distribution (no ties, n1 + n2 ≤ 50)', () => {
  it('gives p = 0.1 for 3 vs 3 completely separated, the best three trials can do', () => {
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, p: 0.1 });
  });

  it('gives the same p whichever sample is larger, with U counted for the first', () => {
    expect(mannWhitneyU([10, 20, 30], [1, 2, 3])).toEqual({ u: 9, p: 0.1 });
  });

  it('gives p = 2/252 ≈ 0.007937 for 5 vs 5 completely separated', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.u).toBe(0);
    expect(r.p).toBeCloseTo(0.007936507936507936, 12);
  });

  it('matches scipy on interleaved samples of unequal size (7 vs 8: U = 5, p ≈ 0.005905)', () => {
    const r = mannWhitneyU([3, 1, 4, 15, 9, 2, 6], [5, 35, 8, 97, 93, 23, 84, 62]);
    expect(r.u).toBe(5);
    expect(r.p).toBeCloseTo(0.005905205905205905, 12);
  });

  it('caps p at 1 when U sits at the centre of its distribution (4 vs 5: U = 10)', () => {
    expect(mannWhitneyU([1, 4, 6, 9], [2, 3, 5, 7, 8])).toEqual({ u: 10, p: 1 });
  });

  it('stays exact up to 25 vs 25 (U = 171, p ≈ 0.005495)', () => {
    const a = Array.from({ length: 25 }, (_, i) => 2 * i);
    const b = Array.from({ length: 25 }, (_, i) => 2 * i + 13);
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(171);
    expect(r.p).toBeCloseTo(0.00549521438434097, 10);
  });
});

/** Every way to split the pooled values into n1 and the rest: the exact two-sided p by brute force (the oracle). */
function bruteForceP(a: readonly number[], b: readonly number[]): number {
  const pooled = [...a, ...b];
  const rankOf = (v: number) => {
    const below = pooled.filter((x) => x < v).length;
    const equal = pooled.filter((x) => x === v).length;
    return below + (equal + 1) / 2;
  };
  const ranks = pooled.map(rankOf);
  const n1 = a.length;
  const mean = (n1 * (pooled.length + 1)) / 2;
  const observed = Math.abs(ranks.slice(0, n1).reduce((x, y) => x + y, 0) - mean);
  let tail = 0;
  let total = 0;
  const pick = (from: number, left: number, sum: number): void => {
    if (left === 0) {
      total++;
      if (Math.abs(sum - mean) >= observed - 1e-9) tail++;
      return;
    }
    for (let i = from; i <= ranks.length - left; i++) pick(i + 1, left - 1, sum + (ranks[i] as number));
  };
  pick(0, n1, 0);
  return Math.min(1, tail / total);
}

describe('mannWhitneyU, exact distribution with ties (n1 + n2 ≤ 25), as benchstat counts it', () => {
  it('[1,2,3] vs [3,4,5]: p = 0.2 — 4 of the 20 splits lie as far out (ranks 1, 2, 3.5 | 3.5, 5, 6), never below the 0.1 of 3 vs 3', () => {
    const r = mannWhitneyU([1, 2, 3], [3, 4, 5]);
    expect(r.u).toBe(0.5);
    expect(r.p).toBeCloseTo(0.2, 12);
  });

  it('matches brute-force enumeration with several tie groups (5 vs 6: U = 3.5, p = 18/462)', () => {
    const a = [1, 1, 2, 3, 5];
    const b = [2, 4, 6, 6, 7, 8];
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(3.5);
    expect(r.p).toBeCloseTo(bruteForceP(a, b), 12);
    expect(r.p).toBeCloseTo(18 / 462, 12); // 18 of the C(11, 5) = 462 splits; the normal approximation said 0.043161
  });

  it("matches Julia HypothesisTests' ExactMannWhitneyUTest(1:10, 2:11) = 0.5096 (nine ties)", () => {
    const a = Array.from({ length: 10 }, (_, i) => i + 1);
    const b = a.map((v) => v + 1);
    expect(mannWhitneyU(a, b).p).toBeCloseTo(0.5096, 4);
    expect(mannWhitneyU(b, a).p).toBeCloseTo(0.5096, 4);
  });
});

describe('mannWhitneyU, normal approximation (n1 + n2 > 50, or > 25 with ties)', () => {
  it('gives p = 1 for identical samples', () => {
    expect(mannWhitneyU([1, 2, 3], [1, 2, 3])).toEqual({ u: 4.5, p: 1 });
  });

  it('gives p = 1 when every value is the same (no variance to test)', () => {
    expect(mannWhitneyU([7, 7, 7], [7, 7, 7])).toEqual({ u: 4.5, p: 1 });
  });

  it('with ties above 25 values in all: corrects for them (14 vs 14 in pairs of equal values: U = 32, p ≈ 0.002456)', () => {
    // Expected: the tie- and continuity-corrected normal approximation, computed apart
    // (Python, math.erfc): 12 of the 13 value groups are ties.
    const a = Array.from({ length: 14 }, (_, i) => Math.floor(i / 2));
    const b = a.map((v) => v + 3);
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(32);
    expect(r.p).toBeCloseTo(0.0024561049842250575, 6);
  });

  it('switches to the approximation above 50 values in all (30 vs 30: U = 276, p ≈ 0.010315)', () => {
    const a = Array.from({ length: 30 }, (_, i) => 2 * i);
    const b = Array.from({ length: 30 }, (_, i) => 2 * i + 13);
    const r = mannWhitneyU(a, b);
    expect(r.u).toBe(276);
    expect(r.p).toBeCloseTo(0.010314672402337998, 6);
  });

  it('gives p = 1 when a sample is empty', () => {
    expect(mannWhitneyU([], [1, 2, 3])).toEqual({ u: 0, p: 1 });
  });
});

describe('smallestP', () => {
  it('is 2 / C(n1 + n2, n1): 0.1 for 3 vs 3, so three trials a side never reach p < 0.05', () => {
    expect(smallestP(3, 3)).toBeCloseTo(0.1, 12);
    expect(smallestP(3, 3)).toBeGreaterThanOrEqual(0.05);
  });

  it('drops below 0.05 from 4 vs 4 (2/70) and is 2/252 for 5 vs 5', () => {
    expect(smallestP(4, 4)).toBeCloseTo(2 / 70, 12);
    expect(smallestP(5, 5)).toBeCloseTo(2 / 252, 12);
    expect(smallestP(3, 4)).toBeCloseTo(2 / 35, 12);
  });

  it('is 1 for a single trial a side or an empty side', () => {
    expect(smallestP(1, 1)).toBe(1);
    expect(smallestP(0, 5)).toBe(1);
  });

  it('is the p the exact test gives for completely separated samples', () => {
    for (const [n1, n2] of [
      [2, 3],
      [4, 6],
      [7, 7],
    ] as const) {
      const a = Array.from({ length: n1 }, (_, i) => i);
      const b = Array.from({ length: n2 }, (_, i) => 100 + i);
      expect(mannWhitneyU(a, b).p).toBeCloseTo(smallestP(n1, n2), 12);
    }
  });
});
