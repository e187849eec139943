/** The mixed workload's reads in the reports: columns only when some run read, exact figures, the header line, 100 columns. */
import { describe, expect, it } from 'vitest';
import type { RunReads } from '../src/bench/results.js';
import { READ_COLUMNS } from '../src/report/columns.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { summarize, type SummaryRow } from '../src/report/summary.js';
import { renderTables } from '../src/report/table.js';
import { completedRun, latency, resultsDoc } from './support/results.js';

const reads = (perSecond: number, p50: number, p99: number, max: number, overrides: Partial<RunReads> = {}): RunReads => ({
  placed: 600,
  completed: 598,
  failed: 2,
  perSecond,
  latencyMs: { ...latency(p50, p99, max, 600), p999: max },
  ...overrides,
});

/** Read-your-writes of a run: `stale` of `checked` missed at once, time to consistency p50/p99 (0 kept as the histogram's 1 µs). */
const consistency = (checked: number, stale: number, unresolved: number, p50: number, p99: number, max = p99): NonNullable<RunReads['consistency']> => ({
  checked,
  stale,
  unresolved,
  reReads: stale * 3,
  readErrors: 0,
  timeToConsistencyMs: { ...latency(p50, p99, max, checked - unresolved), p999: p99 },
});

/** rest (its write side: never stale) and event-sourcing (a lagging read model) at share 0.5, each with its reads. */
const mixedDoc = () =>
  resultsDoc(
    [
      completedRun({ reads: reads(612.4, 1.25, 7.5, 12, { consistency: consistency(290, 0, 0, 0.001, 0.001) }) }),
      completedRun({ pattern: 'event-sourcing', reads: reads(598, 2.5, 15, 31, { consistency: consistency(300, 27, 1, 0.001, 41, 58) }) }),
    ],
    { readShare: 0.5 },
  );

const cells = (row: SummaryRow) => READ_COLUMNS.map((c) => c.cell(row));

describe('the reads in the reports', () => {
  it('summarize the reads of each row with the exact figures', () => {
    const rows = summarize(mixedDoc());
    expect(rows.map(cells)).toEqual([
      ['rest', 'baseline', '612', '600', '1.25', '7.50', '12.0', '2', '0% of 290', '0 / 0 / 0', '0'],
      ['event-sourcing', 'baseline', '598', '600', '2.50', '15.0', '31.0', '2', '9.0% of 300', '0 / 41.0 / 58.0', '1'],
    ]);
  });

  it('sum the read-your-writes counts over trials: the stale share is of all checks, not a median of shares', () => {
    const run = (trial: number, checked: number, stale: number) => completedRun({ pattern: 'event-sourcing', trial, reads: reads(600, 1, 5, 9, { consistency: consistency(checked, stale, 0, 2, 30) }) });
    const [row] = summarize(resultsDoc([run(1, 100, 50), run(2, 300, 0), run(3, 100, 0)], { readShare: 0.5, trials: 3 }));
    expect(row?.reads?.consistency).toMatchObject({ checked: 500, stale: 50, unresolved: 0 });
    expect(READ_COLUMNS.find((c) => c.header === 'stale reads')?.cell(row as SummaryRow)).toBe('10% of 500');
  });

  it('show "—" for read-your-writes in a file from before it was measured', () => {
    const [row] = summarize(resultsDoc([completedRun({ reads: reads(612.4, 1.25, 7.5, 12) })], { readShare: 0.5 }));
    expect(row?.reads?.consistency).toBeNull();
    expect(cells(row as SummaryRow).slice(-3)).toEqual(['—', '—', '—']);
  });

  it('take the median reads/s and sum the counts over trials', () => {
    const doc = resultsDoc(
      [completedRun({ reads: reads(500, 1, 5, 9) }), completedRun({ trial: 2, reads: reads(700, 1, 5, 9) }), completedRun({ trial: 3, reads: reads(600, 1, 5, 9) })],
      { readShare: 0.5, trials: 3 },
    );
    const [row] = summarize(doc);
    expect(row?.reads?.perSecond).toBe(600);
    expect(row?.reads?.placed).toBe(1800);
    expect(row?.reads?.failed).toBe(6);
  });

  it('show the reads table, its figures and the share line in the terminal, within 100 columns', () => {
    const text = renderTables(mixedDoc());
    expect(text).toContain("Reads of a customer's orders");
    expect(text).toContain('Reads: 50% of the measured operations');
    const section = text.slice(text.indexOf("Reads of a customer's orders"));
    // Split into as many tables as 100 columns need: each row's cells, the keys once, across them all.
    const tableLines = section.slice(0, section.indexOf('n: reads timed')).split('\n');
    const cellsOf = (line: string) => line.split('│').map((c) => c.trim()).filter((c) => c !== '');
    const rowOf = (pattern: string) => tableLines.filter((l) => l.startsWith(`│ ${pattern} `)).flatMap((l, i) => cellsOf(l).slice(i === 0 ? 0 : 2));
    const header = tableLines.filter((l) => l.startsWith('│ pattern ')).flatMap((l, i) => cellsOf(l).slice(i === 0 ? 0 : 2));
    expect(header).toEqual(['pattern', 'scenario', 'reads/s', 'n', 'p50 ms', 'p99 ms', 'failed', 'stale', 'TTC p50/p99/max']);
    expect(rowOf('rest')).toEqual(['rest', 'baseline', '612', '600', '1.25', '7.50', '2', '0% of 290', '0 / 0 / 0']);
    expect(rowOf('event-sourcing')).toEqual(['event-sourcing', 'baseline', '598', '600', '2.50', '15.0', '2', '9.0% of 300', '0 / 41.0 / 58.0']);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('show the same in the wide tables, report.md and report.html', () => {
    for (const text of [renderTables(mixedDoc(), { wide: true }), renderMarkdown(mixedDoc()), renderHtml(mixedDoc())]) {
      expect(text).toContain('reads/s');
      expect(text).toContain('read p99.9 ms');
      expect(text).toContain('612');
      expect(text).toContain('15.0');
      expect(text).toContain('9.0% of 300');
      expect(text).toContain('0 / 41.0 / 58.0');
      expect(text).toContain('50% of the measured operations');
    }
  });

  it('leave the reads out entirely when no run read', () => {
    const doc = resultsDoc([completedRun(), completedRun({ pattern: 'queue' })]);
    for (const text of [renderTables(doc), renderTables(doc, { wide: true }), renderMarkdown(doc), renderHtml(doc)]) {
      expect(text).not.toContain('reads/s');
      expect(text).not.toContain('read p50');
      expect(text).not.toContain('of the measured operations read');
    }
  });
});
