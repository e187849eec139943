/** The sweep's curves, knee and capacity at the SLO, on constructed results. */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/report/markdown.js';
import { curveRows, kneeStep, renderSweepMarkdown, renderSweepTables, sloRows, sloTitle, stoppedLine, sweepLine } from '../src/report/sweep.js';
import { renderTables } from '../src/report/table.js';
import { curve, step, sweepDoc } from './support/figures.js';
import { latency } from './support/results.js';

// rest holds to 238 orders/s; 283 goes over the SLO; the halfway step (238) was measured last and sorted in.
const rest = curve(
  'rest',
  [step(100, 100, 2, 6), step(141, 141, 2.2, 8.5), step(200, 199, 3, 21), step(238, 236, 4.1, 44.5), step(283, 280, 9, 73, 0.995)],
  'slo',
);
// grpc could not keep up even at its first step.
const grpc = curve('grpc', [step(100, 80, 30, 120, 0.9)], 'saturated', 130);
const queue = {
  ...curve('queue', [step(100, 100, 3, 9)], 'error'),
  state: 'errored' as const,
  knee: null,
  invariants: null,
  error: { code: 'PB_ERR_BROKER', message: 'the broker closed the connection' },
};
const doc = sweepDoc([rest, grpc]);

describe('sweep curve', () => {
  it('gives each step offered → achieved, p50, p99, success, and marks the knee on its step only', () => {
    expect(curveRows(rest)).toEqual([
      ['100', '100', '2.00', '6.00', '100%', ''],
      ['141', '141', '2.20', '8.50', '100%', ''],
      ['200', '199', '3.00', '21.0', '100%', ''],
      ['238', '236', '4.10', '44.5', '100%', '← knee'],
      ['283', '280', '9.00', '73.0', '100%', ''],
    ]);
    expect(kneeStep(rest)?.rate).toBe(238);
  });

  it('marks no step when even the first missed', () => {
    expect(curveRows(grpc)).toEqual([['100', '80', '30.0', '120', '90%', '']]);
    expect(kneeStep(grpc)).toBeNull();
  });

  it('marks a p99 set by timed-out orders as a lower bound', () => {
    const timedOut = { ...step(400, 300, 40, 5000, 0.95), latencyMs: { ...latency(40, 5000, 5000, 100), lowerBounds: 5 } };
    expect(curveRows(curve('rest', [timedOut], 'saturated'))).toEqual([['400', '300', '40.0', '≥ 5,000', '95%', '']]);
  });

  it('says why each curve stopped', () => {
    expect(stoppedLine(rest, 50)).toBe('stopped: slo: p99 went over 50 ms');
    expect(stoppedLine(grpc, 50)).toBe('stopped: saturated: achieved fell below 95% of the rate asked for');
    expect(stoppedLine({ ...rest, stoppedBy: 'steps' }, 50)).toBe('stopped: steps: the step limit was reached');
    expect(stoppedLine({ ...rest, stoppedBy: 'time' }, 50)).toBe('stopped: time: the time budget was spent');
    expect(stoppedLine(queue, 50)).toBe('stopped: error: PB_ERR_BROKER: the broker closed the connection');
    expect(stoppedLine({ ...rest, stoppedBy: 'aborted' }, 50)).toBe('stopped: aborted');
  });

  it('states the sweep’s settings in one line', () => {
    expect(sweepLine(doc.sweep ?? (undefined as never))).toBe(
      "Sweep: open loop, 1 s per step, rate ×1.41 per step from each pattern's closed-loop probe; SLO p99 ≤ 50 ms",
    );
  });
});

describe('capacity at SLO', () => {
  it('gives each pattern’s knee, the p99 at it, its steps and invariants', () => {
    const sweep = { ...(doc.sweep ?? (undefined as never)), curves: [rest, grpc, queue] };
    expect(sloTitle(sweep)).toBe('Capacity at SLO (p99 ≤ 50 ms)');
    expect(sloRows(sweep)).toEqual([
      ['rest', '238', '44.5', '5', 'OK'],
      ['grpc', 'none: the first step missed', '—', '1', 'OK'],
      ['queue', 'errored: PB_ERR_BROKER', '—', '1', '—'],
    ]);
  });

  it('titles the table with the sweep’s own SLO', () => {
    expect(sloTitle({ ...(doc.sweep ?? (undefined as never)), sloMs: 20 })).toBe('Capacity at SLO (p99 ≤ 20 ms)');
    expect(sloTitle({ ...(doc.sweep ?? (undefined as never)), sloMs: 7.5 })).toBe('Capacity at SLO (p99 ≤ 7.50 ms)');
  });
});

describe('the sweep in the terminal and in markdown', () => {
  it('prints each curve, why it stopped, the capacity at the SLO and the legend, in that order', () => {
    const lines = renderSweepTables(doc, { wide: true }).split('\n');
    const at = (text: string) => lines.indexOf(text);
    expect(lines[0]).toBe("Sweep: open loop, 1 s per step, rate ×1.41 per step from each pattern's closed-loop probe; SLO p99 ≤ 50 ms");
    const order = [
      'rest (probe 400 orders/s)',
      'stopped: slo: p99 went over 50 ms',
      'grpc (probe 130 orders/s)',
      'stopped: saturated: achieved fell below 95% of the rate asked for',
      'Capacity at SLO (p99 ≤ 50 ms)',
      'Definitions',
    ].map(at);
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(lines.find((l) => l.includes('← knee'))).toMatch(/│\s+238 │\s+236 │\s+4\.10 │\s+44\.5 │\s+100% │ ← knee │/);
    const legend = lines.slice(at('Definitions') + 1).map((l) => l.slice(2, l.indexOf(':')));
    expect(legend).toEqual(['offered', 'achieved', 'latency', 'success', 'knee']);
  });

  it('renders the same as markdown sections', () => {
    const md = renderSweepMarkdown(doc).split('\n');
    const headings = md.filter((l) => l.startsWith('#'));
    expect(headings).toEqual(['## Sweep', '### rest (probe 400 orders/s)', '### grpc (probe 130 orders/s)', '## Capacity at SLO (p99 ≤ 50 ms)', '## Definitions']);
    expect(md).toContain('|              238 |               236 |   4.10 |   44.5 |    100% | ← knee |');
    expect(md).toContain('| rest    |                         238 |           44.5 |     5 | OK         |');
    expect(md).toContain('*stopped: slo: p99 went over 50 ms*');
    expect(md.filter((l) => l.startsWith('- **')).map((l) => l.slice(4, l.indexOf('**:')))).toEqual(['offered', 'achieved', 'latency', 'success', 'knee']);
  });

  it('is what renderTables and renderMarkdown show for a sweep’s document', () => {
    const tables = renderTables(doc, { wide: true });
    expect(tables.split('\n')[0]).toMatch(/^Placement: shared — /);
    expect(tables).toContain(renderSweepTables(doc, { wide: true }));
    expect(tables).not.toContain('Throughput and latency');
    const md = renderMarkdown(doc);
    expect(md).toContain(renderSweepMarkdown(doc));
    expect(md).toContain("load      open loop, stepped up per pattern (sweep; SLO p99 ≤ 50 ms); 0.5 s warm-up, then steps of 1 s; seed 42");
    expect(md.indexOf('## Capacity at SLO (p99 ≤ 50 ms)')).toBeLessThan(md.indexOf('## Definitions'));
    expect(md.indexOf('## Definitions')).toBeLessThan(md.indexOf('## The patterns'));
    expect(md.match(/^## Definitions$/gm)).toHaveLength(1);
    expect(md).toContain('*Measured (sweep):* knee at 238 orders/s, p99 44.5 ms there; invariants OK.');
    expect(md).toContain('*Measured (sweep):* no step within the SLO; invariants OK.');
  });

  it('leaves out the patterns section of a document without pattern cards', () => {
    const { patterns: _cards, ...bare } = doc;
    expect(renderMarkdown(bare)).not.toContain('## The patterns');
  });
});
