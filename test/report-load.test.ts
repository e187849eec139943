/** The load line, the coordinated-omission warning and the capacity table, on constructed results. */
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../src/report/html.js';
import type { ResultsDocument } from '../src/bench/results.js';
import {
  capacityCaption,
  capacityCells,
  capacityMarkdown,
  capacityRows,
  coordinatedOmissionWarning,
  loadLine,
  mainTableTitle,
  renderCapacityTable,
  shareText,
} from '../src/report/load.js';
import { capacity, capacityRun, equalLoad, equalLoadDoc, erroredCapacityRun } from './support/figures.js';
import { completedRun, latency, resultsDoc } from './support/results.js';

const cells = (doc: ResultsDocument) => capacityRows(doc).map(capacityCells);

describe('loadLine', () => {
  it('names the equal-load rate, its share and the pattern whose capacity set it', () => {
    expect(loadLine(equalLoadDoc())).toBe(
      "open loop at 412 orders/s for every pattern: 70% of the slowest pattern's capacity (saga-orchestration, 589 orders/s)",
    );
  });

  it('names --rate as the source of an open loop', () => {
    expect(loadLine(resultsDoc([completedRun()], { rate: 1000 }))).toBe('open loop at 1,000 orders/s for every pattern (--rate)');
  });

  it('gives a closed loop’s orders in flight', () => {
    expect(loadLine(resultsDoc([completedRun()], { concurrency: 10 }))).toBe('closed loop, 10 orders in flight');
  });

  it('says when an equal load never got its rate', () => {
    expect(loadLine(resultsDoc([completedRun()]))).toBe("open loop at 70% of the slowest pattern's capacity (no rate: the capacity phase did not finish)");
  });
});

describe('mainTableTitle', () => {
  it('titles the main table with the load every row had', () => {
    expect(mainTableTitle(equalLoadDoc())).toBe('Throughput and latency at equal load (412 orders/s, open loop)');
    expect(mainTableTitle(resultsDoc([completedRun()], { rate: 1000 }))).toBe('Throughput and latency at equal load (1,000 orders/s, open loop, --rate)');
    expect(mainTableTitle(resultsDoc([completedRun()], { concurrency: 10 }))).toBe('Throughput and latency (closed loop, 10 in flight)');
  });
});

describe('coordinatedOmissionWarning', () => {
  it('warns a closed loop that stalls are under-counted, and what to use instead', () => {
    expect(coordinatedOmissionWarning(resultsDoc([completedRun()], { concurrency: 10 }))).toBe(
      'Warning: closed loop: latency has no coordinated-omission correction. Each client waits for its order before placing the next ' +
        'instead of arriving on schedule, so a stall delays the orders that would have arrived during it and they are never counted: ' +
        'stalls are under-counted and the tail looks better than it is. Use --rate or the default equal load.',
    );
  });

  it('says nothing under an open loop', () => {
    expect(coordinatedOmissionWarning(equalLoadDoc())).toBeNull();
    expect(coordinatedOmissionWarning(resultsDoc([completedRun()], { rate: 1000 }))).toBeNull();
  });
});

describe('capacity table', () => {
  it('gives each pattern’s capacity, p99 at capacity, busiest thread and the equal load’s share of it', () => {
    expect(cells(equalLoadDoc())).toEqual([
      ['rest', '2,000', '12.0', 'system 98%', '21% of it'],
      ['saga-orchestration', '589', '48.0', 'orchestrator 99%', '70% of it'],
    ]);
  });

  it('gives the share with one decimal below 10%', () => {
    const doc = { ...equalLoadDoc(), capacity: capacity([capacityRun('direct', 9000), capacityRun('saga-orchestration', 589)]) };
    expect(cells(doc)[0]?.[4]).toBe('4.6% of it');
    expect(shareText(0.0999)).toBe('10.0%');
    expect(shareText(0.0949)).toBe('9.5%');
    expect(shareText(0.1)).toBe('10%');
    expect(shareText(null)).toBe('—');
  });

  it('takes the median over trials, with the interval, its coverage and n', () => {
    const runs = [
      capacityRun('rest', 1000, 20, ['orders', 0.97], 1),
      capacityRun('rest', 1200, 30, ['orders', 0.99], 2),
      capacityRun('rest', 1100, 25, ['orders', 0.98], 3),
    ];
    const doc = { ...resultsDoc([completedRun()]), capacity: capacity(runs), equalLoad: equalLoad(770, { pattern: 'rest', capacity: 1100 }) };
    const [row] = capacityRows(doc);
    expect(row?.capacity?.median).toBe(1100);
    expect(row?.p99Ms).toBe(25);
    expect(row?.busiestThread).toEqual({ name: 'orders', eventLoopUtilization: 0.98 });
    expect(cells(doc)).toEqual([['rest', '1,100 (1,000–1,200, 75% CI, n=3)', '25.0', 'orders 98%', '70% of it']]);
    expect(capacityCaption(doc)).toBe('Capacity: closed loop, 16 orders in flight, 1 s per pattern, median of 3 trials');
  });

  it('marks a p99 at capacity set by timed-out orders as a lower bound', () => {
    const run = { ...capacityRun('rest', 300), latencyMs: { ...latency(40, 5000, 5000, 100), lowerBounds: 5 } };
    const doc = { ...resultsDoc([completedRun()]), capacity: capacity([run]) };
    expect(cells(doc)).toEqual([['rest', '300', '≥ 5,000', 'system 97%', '—']]);
  });

  it('names the closed loop in its caption', () => {
    expect(capacityCaption(equalLoadDoc())).toBe('Capacity: closed loop, 16 orders in flight, 1 s per pattern');
    expect(capacityCaption({ ...equalLoadDoc(), capacity: capacity([capacityRun('rest', 900)], 32, 500) })).toBe(
      'Capacity: closed loop, 32 orders in flight, 0.5 s per pattern',
    );
    expect(capacityCaption(resultsDoc([completedRun()]))).toBeNull();
  });

  it('shows an errored capacity run’s error in its row and under the table', () => {
    const doc = {
      ...equalLoadDoc(),
      capacity: capacity([erroredCapacityRun('queue', 'PB_ERR_BROKER', 'the broker closed the connection'), capacityRun('saga-orchestration', 589)]),
    };
    expect(cells(doc)[0]).toEqual(['queue', 'errored: PB_ERR_BROKER', '—', '—', '—']);
    const text = renderCapacityTable(doc).split('\n');
    expect(text[0]).toBe('Capacity: closed loop, 16 orders in flight, 1 s per pattern');
    expect(text.slice(-2)).toEqual(['Errored capacity runs:', '  queue trial 1: PB_ERR_BROKER: the broker closed the connection']);
    expect(capacityMarkdown(doc)).toContain('- Errored: queue trial 1: PB_ERR_BROKER: the broker closed the connection');
  });

  it('says under the table which capacity run broke its invariants, and nothing for one that kept them', () => {
    const ok = completedRun().invariants;
    const broken = { ...ok, ok: false, lost: 3, doubleCharged: 1 };
    const doc = { ...equalLoadDoc(), capacity: capacity([{ ...capacityRun('grpc', 700), invariants: broken }, { ...capacityRun('rest', 1500), invariants: ok }]) };
    const line = 'grpc broke its invariants in its capacity run (BROKEN: lost 3, doubleCharged 1): its capacity counts orders that went wrong.';
    expect(renderCapacityTable(doc).split('\n').at(-1)).toBe(line);
    expect(capacityMarkdown(doc)).toContain(`- **${line}**`);
    expect(renderHtml(doc)).toContain(`<li><strong>${line}</strong></li>`);
    const clean = { ...equalLoadDoc(), capacity: capacity([{ ...capacityRun('rest', 1500), invariants: ok }]) };
    expect(renderCapacityTable(clean)).not.toContain('broke its invariants');
    expect(capacityMarkdown(clean).join('\n')).not.toContain('broke its invariants');
  });

  it('renders the terminal table under its caption, and nothing without a capacity phase', () => {
    const lines = renderCapacityTable(equalLoadDoc()).split('\n');
    expect(lines[0]).toBe('Capacity: closed loop, 16 orders in flight, 1 s per pattern');
    expect(lines[2]).toMatch(/^│ pattern\s+│ capacity orders\/s │ p99 ms at capacity │\s+busiest thread │ equal load is │$/);
    expect(lines.some((l) => /│ saga-orchestration │\s+589 │\s+48\.0 │ orchestrator 99% │\s+70% of it │/.test(l))).toBe(true);
    expect(renderCapacityTable(resultsDoc([completedRun()]))).toBe('');
  });

  it('renders the markdown table with the caption as a sentence', () => {
    const md = capacityMarkdown(equalLoadDoc());
    expect(md[0]).toBe('Closed loop, 16 orders in flight, 1 s per pattern.');
    expect(md[2]?.split('\n')).toEqual([
      '| pattern            | capacity orders/s | p99 ms at capacity |   busiest thread | equal load is |',
      '| :----------------- | ----------------: | -----------------: | ---------------: | ------------: |',
      '| rest               |             2,000 |               12.0 |       system 98% |     21% of it |',
      '| saga-orchestration |               589 |               48.0 | orchestrator 99% |     70% of it |',
    ]);
  });
});
