/** One row per pattern × scenario over its trials: merged latency, intervals, counts. */
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/metrics/histogram.js';
import { summarize, type SummaryRow } from '../src/report/summary.js';
import { seededRandom } from '../src/random.js';
import { completedRun, erroredRun, latency, resultsDoc } from './support/results.js';

function onlyRow(runs: Parameters<typeof resultsDoc>[0]): SummaryRow {
  const rows = summarize(resultsDoc(runs));
  expect(rows).toHaveLength(1);
  return rows[0] as SummaryRow;
}

function ordered(l: SummaryRow['latencyMs']): void {
  if (!l) throw new Error('no latency');
  expect(l.p50).toBeLessThanOrEqual(l.p90);
  expect(l.p90).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.p999);
  expect(l.p999).toBeLessThanOrEqual(l.max);
}

describe('summarize: latency over trials', () => {
  it('merges the trials’ histograms: the percentiles of every order recorded in one histogram', () => {
    const rng = seededRandom(42);
    const all = new LatencyHistogram();
    // Three trials of different shapes: their medians' median is not the merged median.
    const shapes = [
      { n: 4000, base: 2, spread: 3 },
      { n: 1000, base: 5, spread: 40 },
      { n: 2500, base: 1, spread: 8 },
    ];
    const runs = shapes.map(({ n, base, spread }, i) => {
      const h = new LatencyHistogram();
      for (let k = 0; k < n; k++) {
        const ms = base + spread * rng.next() ** 3;
        h.recordMs(ms);
        all.recordMs(ms);
      }
      return completedRun({ trial: i + 1, latencyMs: h.summary(), latencyHistogram: h.encode() });
    });
    const row = onlyRow(runs);
    const expected = all.summary();
    expect(row.latencyMs?.p50).toBe(expected.p50);
    expect(row.latencyMs?.p99).toBe(expected.p99);
    // Not the median of the trials' p99s (the fallback for files without histograms).
    expect(row.latencyMs?.p99).toBeGreaterThan(3 * (row.p99Ci?.median ?? 0));
    expect(row.latencyMs?.p999).toBe(expected.p999);
    expect(row.latencyMs?.max).toBe(Math.max(...runs.map((r) => r.latencyMs.max)));
    expect(row.latencyMs?.count).toBe(7500);
    expect(row.samples).toBe(7500);
    expect(row.latencyMs?.lowerBounds).toBe(0);
    ordered(row.latencyMs);
    // The trials' own figures still give the interval.
    expect(row.p99Ci).toMatchObject({ n: 3, low: Math.min(...runs.map((r) => r.latencyMs.p99)), high: Math.max(...runs.map((r) => r.latencyMs.p99)) });
  });

  it('sums the lower bounds of merged trials', () => {
    const runs = [0, 1, 2].map((i) => {
      const h = new LatencyHistogram();
      for (let k = 0; k < 990; k++) h.recordMs(1 + k / 100);
      for (let k = 0; k < 10; k++) h.recordLowerBoundMs(5000);
      return completedRun({ trial: i + 1, latencyMs: h.summary(), latencyHistogram: h.encode() });
    });
    const row = onlyRow(runs);
    expect(row.latencyMs?.lowerBounds).toBe(30);
    expect(row.latencyMs?.count).toBe(3000);
    expect(row.latencyMs?.max).toBe(5000);
    ordered(row.latencyMs);
  });

  it('without histograms (older files): the median of the trials’ percentiles, the largest maximum, counts summed', () => {
    const row = onlyRow([
      completedRun({ latencyMs: latency(5, 20, 30, 1000) }),
      completedRun({ trial: 2, latencyMs: latency(6, 25, 80, 2000) }),
      completedRun({ trial: 3, latencyMs: latency(7, 22, 40, 1000) }),
    ]);
    // latency(p50, p99, max) sets p90 = (p50 + p99) / 2 and p999 = max.
    expect(row.latencyMs).toEqual({ p50: 6, p90: 14.5, p99: 22, p999: 40, max: 80, mean: 6, count: 4000, lowerBounds: 0 });
    expect(row.samples).toBe(4000);
    ordered(row.latencyMs);
  });

  it('keeps every percentile at most the maximum when the trials disagree', () => {
    // A trial with a p99.9 above every maximum (inconsistent figures) cannot lift the row's past its max.
    const odd = { p50: 1, p90: 2, p99: 3, p999: 90, max: 4, mean: 1, count: 100 };
    const row = onlyRow([completedRun({ latencyMs: odd }), completedRun({ trial: 2, latencyMs: { ...odd, p999: 95, max: 5 } })]);
    expect(row.latencyMs?.max).toBe(5);
    expect(row.latencyMs?.p999).toBe(5);
    ordered(row.latencyMs);
  });

  it('gives p50 and p99 an order-statistic interval over 6 trials', () => {
    const p50s = [4.25, 3.9, 5.1, 4.75, 4.0, 6.3];
    const p99s = [19, 22, 21, 35, 20, 24];
    const row = onlyRow(p50s.map((p50, i) => completedRun({ trial: i + 1, latencyMs: latency(p50, p99s[i] as number, 50) })));
    // Six trials: [min, max] is the narrowest interval with ≥ 95% coverage, 1 − 2/2⁶.
    expect(row.p50Ci).toEqual({ median: 4.5, low: 3.9, high: 6.3, confidence: 1 - 2 / 64, n: 6 });
    expect(row.p99Ci).toEqual({ median: 21.5, low: 19, high: 35, confidence: 1 - 2 / 64, n: 6 });
    expect(row.achieved).toMatchObject({ median: 1000, n: 6 });
  });

  it('sums orders completed in the window, reading achieved × window where a file lacks it', () => {
    const row = onlyRow([
      completedRun({ completedInWindow: 2950 }),
      completedRun({ trial: 2, throughput: { target: null, offered: null, achieved: 1001.5 }, durationMs: 3000 }),
    ]);
    expect(row.completedInWindow).toBe(2950 + 3005);
  });

  it('takes the latest scheduler lateness over trials and combines the failed orders’ latency', () => {
    const row = onlyRow([
      completedRun({ schedulerLatenessMs: latency(0.05, 0.2), failedLatencyMs: latency(100, 5000, 5000, 10) }),
      completedRun({ trial: 2, schedulerLatenessMs: latency(0.1, 0.7), failedLatencyMs: null }),
      completedRun({ trial: 3, schedulerLatenessMs: latency(0.02, 0.3), failedLatencyMs: latency(300, 4000, 5000, 30) }),
    ]);
    expect(row.schedulerLatenessP99Ms).toBe(0.7);
    expect(row.failedLatencyMs).toEqual({ p50: 200, p90: 2350, p99: 4500, p999: 5000, max: 5000, mean: 250, count: 40, lowerBounds: 0 });
  });

  it('has no figures for a closed loop’s lateness, nor failed latency when nothing failed', () => {
    const row = onlyRow([completedRun()]);
    expect(row.schedulerLatenessP99Ms).toBeNull();
    expect(row.failedLatencyMs).toBeNull();
    expect(row.target).toBeNull();
  });

  it('has no latency, no samples and no interval when no trial completed', () => {
    const row = onlyRow([erroredRun(), erroredRun({ trial: 2 })]);
    expect(row).toMatchObject({ trials: 2, completedTrials: 0, latencyMs: null, p50Ci: null, p99Ci: null, samples: 0, completedInWindow: null, achieved: null });
  });
});
