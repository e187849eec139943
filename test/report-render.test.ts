/** The terminal tables, the markdown report and the HTML page: sections, their order and titles, on constructed results. */
import { describe, expect, it } from 'vitest';
import type { ResultsDocument, ThresholdVerdict } from '../src/bench/results.js';
import { latenessNotes, saturationNotes } from '../src/report/columns.js';
import { definition } from '../src/report/definitions.js';
import { renderHtml } from '../src/report/html.js';
import { coordinatedOmissionWarning, renderCapacityTable } from '../src/report/load.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { summarize } from '../src/report/summary.js';
import { legendTerms, placementLine, renderTables } from '../src/report/table.js';
import { renderThresholdTable, thresholdMarkdown } from '../src/report/thresholds.js';
import { equalLoadDoc, runAt } from './support/figures.js';
import { completedRun, latency, resultsDoc } from './support/results.js';

const verdicts: ThresholdVerdict[] = [
  { expression: 'rest.p99<20ms', checks: [{ pattern: 'rest', scenario: 'baseline', actual: 12.5, pass: true }], pass: true },
];

/** Where each of `texts` is among `lines` (exact lines), asserting each is there. */
function positions(lines: readonly string[], texts: readonly string[]): number[] {
  return texts.map((t) => {
    const i = lines.indexOf(t);
    expect(i, t).toBeGreaterThan(-1);
    return i;
  });
}

const inOrder = (xs: readonly number[]) => xs.every((x, i) => i === 0 || (xs[i - 1] as number) < x);

// rest's generator ran 1.2 ms late at p99 against a 5 ms p50 (over 10%), and its system thread was saturated.
const late = runAt(412, {
  schedulerLatenessMs: latency(0.3, 1.2),
  cost: { ...completedRun().cost, system: { sharesGeneratorThread: false, cpuMicrosPerOrder: 700, busiestThread: { name: 'system', eventLoopUtilization: 0.97 } } },
});
const equal: ResultsDocument = { ...equalLoadDoc([late, runAt(412, { pattern: 'saga-orchestration' })]), thresholds: verdicts };
const closed = resultsDoc([completedRun()], { concurrency: 10 });

describe('renderTables', () => {
  it('puts the placement and the load first, the capacity table before the main table, then notes, thresholds and the legend', () => {
    const text = renderTables(equal, { wide: true });
    const lines = text.split('\n');
    expect(lines[0]).toBe(placementLine(equal));
    expect(lines[1]).toBe("Load: open loop at 412 orders/s for every pattern: 70% of the slowest pattern's capacity (saga-orchestration, 589 orders/s)");
    const rows = summarize(equal);
    const [saturated] = saturationNotes(rows);
    const [lateness] = latenessNotes(rows);
    expect(saturated).toBe('rest (baseline): system thread 97% busy: this row measures that thread.');
    expect(lateness).toBe(
      "rest (baseline): the load generator started orders up to 1.20 ms late (p99), more than 10% of p50 5.00 ms: latency here is partly the generator's.",
    );
    const at = positions(lines, [
      'Capacity: closed loop, 16 orders in flight, 1 s per pattern',
      'Throughput and latency at equal load (412 orders/s, open loop)',
      'Outcomes, invariants and cost',
      saturated as string,
      lateness as string,
      'Thresholds',
      'Definitions',
    ]);
    expect(inOrder(at)).toBe(true);
    expect(text).toContain(renderCapacityTable(equal));
    expect(text).toContain(`Thresholds\n${renderThresholdTable(verdicts)}`);
  });

  it('ends with a legend of the terms on screen', () => {
    const lines = renderTables(equal, { wide: true }).split('\n');
    const legend = lines.slice(lines.indexOf('Definitions') + 1);
    expect(legend).toEqual(legendTerms(equal, summarize(equal)).map((t) => `  ${t}: ${definition(t).text}`));
    expect(legendTerms(equal, summarize(equal))).toEqual([
      'capacity',
      'equal load',
      'offered',
      'achieved',
      'latency',
      'samples (n)',
      'CPU per order',
      'busiest thread',
      'wire per order',
      'scheduler lateness',
    ]);
    expect(legendTerms(closed, summarize(closed))).toEqual(['achieved', 'latency', 'samples (n)', 'CPU per order', 'busiest thread', 'wire per order']);
  });

  it('titles the main table with the load: --rate and closed loop', () => {
    expect(renderTables(resultsDoc([completedRun()], { rate: 1000 }), { wide: true }).split('\n')).toContain('Throughput and latency at equal load (1,000 orders/s, open loop, --rate)');
    expect(renderTables(closed, { wide: true }).split('\n')).toContain('Throughput and latency (closed loop, 10 in flight)');
    expect(renderTables(closed, { wide: true }).split('\n')[1]).toBe('Load: closed loop, 10 orders in flight');
  });

  it('warns of coordinated omission under a closed loop only, after the tables', () => {
    const warning = coordinatedOmissionWarning(closed) as string;
    const lines = renderTables(closed, { wide: true }).split('\n');
    expect(inOrder(positions(lines, ['Outcomes, invariants and cost', warning, 'Definitions']))).toBe(true);
    expect(renderTables(equal, { wide: true })).not.toContain('coordinated-omission');
    expect(renderTables(resultsDoc([completedRun()], { rate: 1000 }), { wide: true })).not.toContain('coordinated-omission');
  });

  it('has no capacity or thresholds section without them', () => {
    const text = renderTables(closed, { wide: true });
    expect(text).not.toContain('Capacity:');
    expect(text.split('\n')).not.toContain('Thresholds');
  });
});

describe('renderMarkdown', () => {
  it('has the sections in order, the main one titled with the equal-load rate, Definitions before the patterns', () => {
    const md = renderMarkdown(equal);
    const titles = md.split('\n').filter((l) => l.startsWith('## '));
    expect(titles).toEqual([
      '## Capacity',
      '## Throughput and latency at equal load (412 orders/s, open loop)',
      '## Outcomes, invariants and cost',
      '## Observations',
      '## Why, not only what',
      '## Thresholds',
      '## Resilience policies',
      '## Definitions',
      '## The patterns',
    ]);
    expect(md).toContain(
      "load      open loop at 412 orders/s for every pattern: 70% of the slowest pattern's capacity (saga-orchestration, 589 orders/s); 0.5 s warm-up + 3 s measured; 1 trial(s); seed 42",
    );
    expect(md).toContain('## Capacity\n\nClosed loop, 16 orders in flight, 1 s per pattern.\n');
    expect(md).toContain(thresholdMarkdown(verdicts));
  });

  it('puts the notes on the figures after the tables', () => {
    const md = renderMarkdown(equal);
    const rows = summarize(equal);
    for (const note of [...saturationNotes(rows), ...latenessNotes(rows)]) {
      expect(md.indexOf(`> ${note}`)).toBeGreaterThan(md.indexOf('## Outcomes, invariants and cost'));
      expect(md.indexOf(`> ${note}`)).toBeLessThan(md.indexOf('## Observations'));
    }
  });

  it('warns of coordinated omission under a closed loop only', () => {
    const md = renderMarkdown(closed);
    expect(md).toContain(`## Throughput and latency (closed loop, 10 in flight)`);
    expect(md).toContain(`> ${coordinatedOmissionWarning(closed) as string}`);
    expect(md).not.toContain('## Capacity');
    expect(renderMarkdown(equal)).not.toContain('coordinated-omission');
  });
});

describe('renderHtml', () => {
  it('renders the markdown report as one page, sections and tables included', () => {
    const html = renderHtml(equal);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const h of ['Capacity', 'Throughput and latency at equal load (412 orders/s, open loop)', 'Thresholds', 'Definitions', 'The patterns']) {
      expect(html).toContain(`<h2>${h}</h2>`);
    }
    expect(html).toContain('<th align="left">pattern</th>');
    expect(html).toContain('<td align="right">70% of it</td>');
    expect(html).toContain(`<li><strong>knee</strong>: ${definition('knee').text}</li>`);
    expect(html).not.toContain('<script');
  });
});
