/** The reads' sentences (src/report/reads.ts) on constructed results: who kept answering reads through a fault, who showed clients their own orders late. */
import { describe, expect, it } from 'vitest';
import type { RunReads } from '../src/bench/results.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { readObservations } from '../src/report/reads.js';
import { summarize } from '../src/report/summary.js';
import { renderTables } from '../src/report/table.js';
import { completedRun, failure, latency, resultsDoc } from './support/results.js';

const reads = (placed: number, failed: number, checked: number, stale: number, ttcP99 = 0.001, unresolved = 0, ttcMax = ttcP99): RunReads => ({
  placed,
  completed: placed - failed,
  failed,
  perSecond: placed / 3,
  latencyMs: latency(1, 5, 9, placed),
  consistency: { checked, stale, unresolved, reReads: stale * 4, readErrors: 0, timeToConsistencyMs: { ...latency(0.001, ttcP99, ttcMax, checked - unresolved), p999: ttcP99 } },
});

/** An outage: rest and event-sourcing answer every read while 64% and 100% of their orders succeed; queue fails 30 of 400 reads. */
const outageDoc = () =>
  resultsDoc(
    [
      completedRun({ scenario: 'outage', reads: reads(600, 0, 900, 0), failure: failure({ kind: 'recovered', ms: 120 }, { successRate: 0.64 }) }),
      completedRun({ pattern: 'event-sourcing', scenario: 'outage', reads: reads(500, 0, 800, 72, 38.5, 0, 52), failure: failure({ kind: 'never-dropped' }, { successRate: 1 }) }),
      completedRun({ pattern: 'queue', scenario: 'outage', reads: reads(400, 30, 700, 0), failure: failure({ kind: 'recovered', ms: 300 }, { successRate: 0.8 }) }),
    ],
    { readShare: 0.4 },
  );

describe("the reads' observations", () => {
  it('name who answered every read through a fault, with the orders that succeeded beside, and who failed how many', () => {
    const said = readObservations(summarize(outageDoc()));
    expect(said).toContain("Through outage, rest, event-sourcing (2 of 3 patterns) answered every read of a customer's orders, while 64–100% of their orders succeeded.");
    expect(said).toContain('Through outage, queue failed 30 of 400 reads (7.5%).');
  });

  it("name who showed every client its own order at once, and who showed some late, with the share and the time to consistency", () => {
    const said = readObservations(summarize(outageDoc()));
    expect(said).toContain('rest, queue showed each client its own completed order at its first read (read-your-writes: 0 stale).');
    expect(said).toContain("event-sourcing's first read missed 9.0% of its clients' own completed orders (72 of 800); the last of them showed 52.0 ms after it completed (time to consistency p99 38.5 ms).");
  });

  it('say "every pattern" when all answered every read, and count the orders never shown', () => {
    const doc = resultsDoc(
      [
        completedRun({ scenario: 'outage', reads: reads(600, 0, 900, 0), failure: failure({ kind: 'never-dropped' }, { successRate: 1 }) }),
        completedRun({ pattern: 'event-sourcing', scenario: 'outage', reads: reads(500, 0, 800, 400, 1_900, 3, 1_990), failure: failure({ kind: 'never-dropped' }, { successRate: 1 }) }),
      ],
      { readShare: 0.4 },
    );
    const said = readObservations(summarize(doc));
    // All orders succeeded: nothing to set the reads beside.
    expect(said).toContain("Through outage, every pattern (2 of 2) answered every read of a customer's orders.");
    expect(said).toContain("event-sourcing's first read missed 50% of its clients' own completed orders (400 of 800); the last of them showed 1,990 ms after it completed (time to consistency p99 1,900 ms); 3 never within the bound.");
  });

  it('name the slowest when a few stale among many leave p99 at 0', () => {
    const doc = resultsDoc([completedRun({ pattern: 'event-sourcing', scenario: 'crash', reads: reads(500, 0, 206, 1, 0.001, 0, 12) })], { readShare: 0.4 });
    expect(readObservations(summarize(doc))).toContain(
      "event-sourcing's first read missed 0.5% of its clients' own completed orders (1 of 206); the last of them showed 12.0 ms after it completed (time to consistency p99 0 ms).",
    );
  });

  it('say nothing of faults in a scenario without one, and nothing at all without reads', () => {
    const baseline = resultsDoc([completedRun({ reads: reads(600, 4, 900, 0) })], { readShare: 0.4 });
    expect(readObservations(summarize(baseline))).toEqual(['Every pattern showed each client its own completed order at its first read (read-your-writes: 0 stale).']);
    expect(readObservations(summarize(resultsDoc([completedRun()])))).toEqual([]);
  });

  it('appear in the terminal, report.md and report.html', () => {
    for (const text of [renderTables(outageDoc()), renderMarkdown(outageDoc()), renderHtml(outageDoc())]) {
      expect(text.replace(/\s+/g, ' ')).toContain('queue failed 30 of 400 reads (7.5%)');
      expect(text.replace(/\s+/g, ' ')).toContain('first read missed 9.0% of its clients');
    }
  });
});
