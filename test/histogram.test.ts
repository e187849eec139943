import { describe, expect, it } from 'vitest';
import { atLeast, LatencyHistogram, mergeLatency } from '../src/metrics/histogram.js';

/** HdrHistogram with 3 significant digits: a value is known to within 0.1 %. */
const HDR_PRECISION = 1e-3;

const histogramOf = (values: readonly number[]) => {
  const h = new LatencyHistogram();
  for (const v of values) h.recordMs(v);
  return h;
};

describe('latency histogram', () => {
  it('never reports a percentile above the max, even for values in one bucket', () => {
    // 42.420 and 42.429 ms share a bucket whose top (42.431) lies above the larger value.
    const s = histogramOf([42.42, 42.429]).summary();
    expect(s.max).toBe(42.429);
    for (const p of [s.p50, s.p90, s.p99, s.p999]) expect(p).toBeLessThanOrEqual(s.max);
    expect(s.p999).toBe(42.429);
  });

  it('keeps the exact max and mean, to the µs', () => {
    const s = histogramOf([1.001, 2.5, 123.4567]).summary();
    expect(s.max).toBe(123.457);
    expect(s.mean).toBe(Math.round(((1001 + 2500 + 123457) / 3)) / 1000);
    expect(s.count).toBe(3);
    expect(s.lowerBounds).toBe(0);
  });

  it('counts lower bounds, and atLeast() marks the percentiles among them', () => {
    const h = histogramOf(Array.from({ length: 98 }, (_, i) => 1 + i / 100));
    h.recordLowerBoundMs(5000);
    h.recordLowerBoundMs(5000);
    const s = h.summary();
    expect(s).toMatchObject({ count: 100, lowerBounds: 2, max: 5000 });
    expect(atLeast(s, 50)).toBe(false);
    expect(atLeast(s, 98)).toBe(false); // rank 98: the last measured order
    expect(atLeast(s, 99)).toBe(true); // rank 99: a timed-out one
    expect(atLeast(s, 100)).toBe(true);
    expect(s.p99).toBe(5000);
  });

  it('an empty histogram summarises to zeros', () => {
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0, lowerBounds: 0 });
  });

  it('reads a value by rank, clamped to the max', () => {
    const h = histogramOf([1, 2, 3, 4, 10]);
    expect(h.rankMs(1)).toBeCloseTo(1, 2);
    expect(h.rankMs(4)).toBeCloseTo(4, 2);
    expect(h.rankMs(5)).toBe(10);
    expect(h.rankMs(99)).toBe(10);
  });
});

describe('encode and merge', () => {
  // Three "trials" with different spreads and one lower bound between them.
  const trials = [
    Array.from({ length: 1000 }, (_, i) => 0.5 + (i % 97) * 0.031),
    Array.from({ length: 700 }, (_, i) => 2 + (i % 13) * 0.77),
    Array.from({ length: 300 }, (_, i) => 10 + i * 0.113),
  ];

  it('equals recording everything in one histogram, within HdrHistogram precision, with the exact max', () => {
    const parts = trials.map((values, i) => {
      const h = histogramOf(values);
      if (i === 1) h.recordLowerBoundMs(250.1234);
      return { histogram: h.encode(), summary: h.summary() };
    });
    const all = histogramOf(trials.flat());
    all.recordLowerBoundMs(250.1234);
    const one = all.summary();
    const merged = mergeLatency(parts);
    expect(merged.count).toBe(one.count);
    expect(merged.lowerBounds).toBe(1);
    expect(merged.max).toBe(one.max);
    expect(merged.max).toBe(250.123);
    for (const key of ['p50', 'p90', 'p99', 'p999'] as const) {
      expect(Math.abs(merged[key] - one[key])).toBeLessThanOrEqual(one[key] * HDR_PRECISION);
      expect(merged[key]).toBeLessThanOrEqual(merged.max);
    }
    expect(Math.abs(merged.mean - one.mean)).toBeLessThanOrEqual(0.001);
  });

  it('clamps the merged percentiles to the parts’ exact maxima', () => {
    const a = histogramOf([42.42, 42.429]);
    const b = histogramOf([42.425]);
    const merged = mergeLatency([a, b].map((h) => ({ histogram: h.encode(), summary: h.summary() })));
    expect(merged.max).toBe(42.429);
    expect(merged.p999).toBeLessThanOrEqual(42.429);
  });

  it('of nothing, or of empty parts, is empty', () => {
    const empty = new LatencyHistogram();
    expect(mergeLatency([]).count).toBe(0);
    expect(mergeLatency([{ histogram: empty.encode(), summary: empty.summary() }])).toEqual(empty.summary());
  });
});
