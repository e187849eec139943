/** The table cells: lower-bound marks, sample counts, intervals, recovery in words, lateness notes. */
import { describe, expect, it } from 'vitest';
import type { Recovery } from '../src/bench/failure.js';
import type { CompletedRun } from '../src/bench/results.js';
import { FAILURE_COLUMNS, latenessNotes, OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, percentileText, recoveryText } from '../src/report/columns.js';
import { summarize, type SummaryRow } from '../src/report/summary.js';
import { completedRun, erroredRun, failure, latency, resultsDoc } from './support/results.js';

const cellOf = (columns: typeof PERFORMANCE_COLUMNS) => (header: string, row: SummaryRow) => {
  const column = columns.find((c) => c.header === header);
  if (!column) throw new Error(`no column ${header}`);
  return column.cell(row);
};
const perf = cellOf(PERFORMANCE_COLUMNS);
const outcome = cellOf(OUTCOME_COLUMNS);
const failureCell = cellOf(FAILURE_COLUMNS);

function onlyRow(runs: Parameters<typeof resultsDoc>[0]): SummaryRow {
  const rows = summarize(resultsDoc(runs));
  expect(rows).toHaveLength(1);
  return rows[0] as SummaryRow;
}

/** 1,000 orders, `lowerBounds` of them timed out at the 5 s deadline. */
const withTimeouts = (lowerBounds: number) => ({ p50: 4, p90: 9, p99: 5000, p999: 5000, max: 5000, mean: 30, count: 1000, lowerBounds });

describe('percentile cells', () => {
  it('mark with ≥ the percentiles that fall among the timed-out orders, and only those', () => {
    // 15 of 1,000 are lower bounds: ranks 986..1000. p99 is rank 990, p90 rank 900.
    const row = onlyRow([completedRun({ latencyMs: withTimeouts(15) })]);
    expect(['p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'].map((h) => perf(h, row))).toEqual(['4.00', '9.00', '≥ 5,000', '≥ 5,000', '≥ 5,000']);
  });

  it('leave the percentile just below the lower bounds unmarked', () => {
    // 10 of 1,000: ranks 991..1000; p99 (rank 990) is a real measurement, p99.9 (rank 999) is not.
    const row = onlyRow([completedRun({ latencyMs: withTimeouts(10) })]);
    expect(perf('p99 ms', row)).toBe('5,000');
    expect(perf('p99.9 ms', row)).toBe('≥ 5,000');
    expect(percentileText(row.latencyMs, 99)).toBe('5,000');
    expect(percentileText(row.latencyMs, 100)).toBe('≥ 5,000');
  });

  it('mark nothing in files without lower bounds', () => {
    const row = onlyRow([completedRun({ latencyMs: latency(5, 20, 40) })]);
    expect(['p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'].map((h) => perf(h, row))).toEqual(['5.00', '12.5', '20.0', '40.0', '40.0']);
  });

  it('show the orders in the latency figures and the trials', () => {
    const row = onlyRow([
      completedRun({ latencyMs: latency(5, 20, 40, 3001) }),
      completedRun({ trial: 2, latencyMs: latency(5, 20, 40, 2999) }),
      erroredRun({ trial: 3 }),
    ]);
    expect(perf('n', row)).toBe('6,000');
    expect(perf('trials', row)).toBe('2 of 3');
  });

  it('show p50 and p99 with the interval of the trials’ figures from two trials on, and without it for one', () => {
    const p50s = [4, 5, 6, 7, 8, 9];
    const p99s = [20, 21, 22, 24, 26, 30];
    const six = onlyRow(p50s.map((p50, i) => completedRun({ trial: i + 1, latencyMs: latency(p50, p99s[i] as number, 40) })));
    expect(perf('trials', six)).toBe('6');
    expect(perf('p50 ms', six)).toBe('6.50 (4.00–9.00)');
    expect(perf('p99 ms', six)).toBe('23.0 (20.0–30.0)');
    expect(perf('orders/s', six)).toBe('1,000 (1,000–1,000, 97% CI)');
    const one = onlyRow([completedRun({ latencyMs: latency(6, 23, 40) })]);
    expect(perf('p50 ms', one)).toBe('6.00');
    expect(perf('p99 ms', one)).toBe('23.0');
  });

  it('print — for every figure of a row with no completed trial, not 0', () => {
    const row = onlyRow([erroredRun(), erroredRun({ trial: 2 })]);
    expect(['trials', 'orders/s', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'].map((h) => perf(h, row))).toEqual(['0 of 2', '—', '—', '—', '—', '—', '—', '—']);
    expect(outcome('CPU µs/order system / generator', row)).toBe('—');
  });
});

describe('recovery in words', () => {
  const faulted = (recoveries: readonly (Recovery | undefined)[], overrides: Partial<CompletedRun>[] = []): SummaryRow =>
    onlyRow(recoveries.map((r, i) => completedRun({ scenario: 'outage', trial: i + 1, failure: failure(r), ...overrides[i] })));

  it('says what each kind of recovery means', () => {
    expect(recoveryText(faulted([{ kind: 'recovered', ms: 1200 }]))).toBe('1.2 s');
    expect(recoveryText(faulted([{ kind: 'recovered', ms: 200 }]))).toBe('0.20 s');
    expect(recoveryText(faulted([{ kind: 'never-dropped' }]))).toBe('never dropped');
    expect(recoveryText(faulted([{ kind: 'not-recovered' }]))).toBe('not within the window');
    expect(recoveryText(faulted([{ kind: 'whole-window' }]))).toBe('fault lasts the whole window');
    expect(recoveryText(faulted([{ kind: 'not-applied' }]))).toBe('n/a: not affected');
    expect(failureCell('recovered in', faulted([{ kind: 'recovered', ms: 1200 }]))).toBe('1.2 s');
    expect(recoveryText(onlyRow([completedRun()]))).toBe('—');
  });

  it('takes the median over trials, and says in how many trials it did not recover', () => {
    const recovered = faulted([
      { kind: 'recovered', ms: 1200 },
      { kind: 'recovered', ms: 1800 },
      { kind: 'recovered', ms: 900 },
    ]);
    expect(recovered.failure?.recovery).toEqual({ kind: 'recovered', ms: 1200 });
    expect(recoveryText(recovered)).toBe('1.2 s');
    // A trial that never dropped counts as back at once.
    expect(recoveryText(faulted([{ kind: 'recovered', ms: 1200 }, { kind: 'never-dropped' }]))).toBe('0.60 s');
    const missed = faulted([{ kind: 'recovered', ms: 1200 }, { kind: 'not-recovered' }, { kind: 'recovered', ms: 900 }]);
    expect(missed.failure?.recovery).toEqual({ kind: 'not-recovered', trials: 1, of: 3 });
    expect(recoveryText(missed)).toBe('not within the window in 1 of 3 trials');
    expect(recoveryText(faulted([{ kind: 'not-recovered' }, { kind: 'not-recovered' }]))).toBe('not within the window');
  });

  it('reads older files from timeToRecoverMs and the fault window', () => {
    const old = (timeToRecoverMs: number | null, faultWindowMs: { fromMs: number; toMs: number } | null = { fromMs: 1000, toMs: 2000 }, applied = true) =>
      recoveryText(onlyRow([completedRun({ scenario: 'outage', failure: failure(undefined, { timeToRecoverMs, faultWindowMs, applied }) })]));
    expect(old(1500)).toBe('1.5 s');
    expect(old(0)).toBe('never dropped');
    expect(old(null)).toBe('not within the window');
    expect(old(null, { fromMs: 1000, toMs: 3000 })).toBe('fault lasts the whole window');
    expect(old(null, { fromMs: 0, toMs: 2000 })).toBe('fault lasts the whole window');
    expect(old(null, null, false)).toBe('n/a: not affected');
  });
});

describe('lateness notes', () => {
  const openLoop = (pattern: string, p50: number, latenessP99: number) =>
    completedRun({
      pattern,
      throughput: { target: 400, offered: 400, achieved: 400 },
      latencyMs: latency(p50, p50 * 4),
      schedulerLatenessMs: latency(latenessP99 / 4, latenessP99),
    });

  it('name a row whose generator started orders late by more than 10% of its p50, and not one at 9%', () => {
    const notes = latenessNotes(summarize(resultsDoc([openLoop('rest', 0.9, 0.41), openLoop('grpc', 1, 0.09)])));
    expect(notes).toEqual([
      'rest (baseline): the load generator started orders up to 0.410 ms late (p99), more than 10% of p50 0.900 ms: latency here is partly the generator\'s.',
    ]);
  });

  it('take the latest trial’s lateness', () => {
    const rows = summarize(resultsDoc([openLoop('rest', 2, 0.05), { ...openLoop('rest', 2, 0.3), trial: 2 }, { ...openLoop('rest', 2, 0.1), trial: 3 }]));
    expect(rows[0]?.schedulerLatenessP99Ms).toBe(0.3);
    expect(latenessNotes(rows)).toHaveLength(1);
  });

  it('say nothing for closed-loop rows', () => {
    expect(latenessNotes(summarize(resultsDoc([completedRun()])))).toEqual([]);
  });
});

describe('lateness and failed-order latency cells', () => {
  const open = (trial: number, latenessP99: number): CompletedRun =>
    completedRun({ trial, throughput: { target: 400, offered: 400, achieved: 400 }, schedulerLatenessMs: latency(latenessP99 / 4, latenessP99) });

  it('show the scheduler lateness p99, the largest of the trials’, in the performance table, — for a closed loop', () => {
    const row = onlyRow([open(1, 0.2), open(2, 0.7), open(3, 0.3)]);
    expect(perf('lateness p99 ms', row)).toBe('0.700');
    expect(perf('lateness p99 ms', onlyRow([open(1, 12.34)]))).toBe('12.3');
    expect(perf('lateness p99 ms', onlyRow([completedRun()]))).toBe('—');
  });

  it('show the failed orders’ p50 / p99 in the failure table, ≥ where the p99 falls among the timeouts, — when no order failed', () => {
    const faulted = (failedLatencyMs: CompletedRun['failedLatencyMs'], trial = 1) => completedRun({ scenario: 'outage', trial, failure: failure({ kind: 'recovered', ms: 800 }), failedLatencyMs });
    // Two trials' failures combined: the medians of their p50 (100, 300) and p99 (5,000, 4,000).
    expect(failureCell('failed p50/p99 ms', onlyRow([faulted(latency(100, 5000, 5000, 10)), faulted(latency(300, 4000, 5000, 30), 2)]))).toBe('200 / 4,500');
    // 5 of 20 failed orders timed out at the 5 s deadline: ranks 16..20; p99 is rank 20, p50 rank 10.
    const timedOut = { p50: 12, p90: 5000, p99: 5000, p999: 5000, max: 5000, mean: 1259, count: 20, lowerBounds: 5 };
    expect(failureCell('failed p50/p99 ms', onlyRow([faulted(timedOut)]))).toBe('12.0 / ≥ 5,000');
    expect(failureCell('failed p50/p99 ms', onlyRow([faulted(null)]))).toBe('—');
    expect(failureCell('failed p50/p99 ms', onlyRow([faulted(undefined)]))).toBe('—');
  });
});
