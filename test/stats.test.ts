import { describe, expect, it } from 'vitest';
import { medianWithCi } from '../src/bench/stats.js';

describe('medianWithCi', () => {
  it('gives the median and an order-statistic interval with its real coverage', () => {
    expect(medianWithCi([])).toBeNull();
    expect(medianWithCi([5])).toEqual({ median: 5, low: 5, high: 5, confidence: 0, n: 1 });
    const three = medianWithCi([3, 1, 2]);
    expect(three).toMatchObject({ median: 2, low: 1, high: 3, n: 3 });
    expect(three?.confidence).toBeCloseTo(0.75, 10);
    expect(medianWithCi([4, 1, 3, 2])?.median).toBe(2.5);
  });

  it('reaches 95% from six trials and narrows as trials grow', () => {
    const six = medianWithCi([1, 2, 3, 4, 5, 6]);
    expect(six).toMatchObject({ low: 1, high: 6 });
    expect(six?.confidence).toBeCloseTo(1 - 2 / 64, 10);
    const twenty = medianWithCi(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(twenty?.confidence).toBeGreaterThanOrEqual(0.95);
    expect(twenty?.low).toBe(6);
    expect(twenty?.high).toBe(15);
  });
});
