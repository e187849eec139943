/** The runner's CPU per order per thread (threadFigures): a figure per completed order, none when nothing completed. */
import { describe, expect, it } from 'vitest';
import { threadFigures } from '../src/bench/runner.js';
import type { ThreadCost } from '../src/bench/threads.js';
import { OUTCOME_COLUMNS } from '../src/report/columns.js';
import { summarize } from '../src/report/summary.js';
import { completedRun, resultsDoc } from './support/results.js';

const THREADS: readonly ThreadCost[] = [
  { name: 'main', role: 'generator', components: [], eventLoopUtilization: 0.2, cpuMs: 60 },
  { name: 'inventory', role: 'system', components: ['inventory'], eventLoopUtilization: 0.3, cpuMs: 100 },
  { name: 'payments', role: 'system', components: ['payments'], eventLoopUtilization: 0.5, cpuMs: 180 },
];

describe('threadFigures', () => {
  it('divides each side’s CPU by the completed orders: generator 60 ms and system 280 ms over 400 orders', () => {
    const f = threadFigures(THREADS, 400);
    expect(f.generator).toEqual({ thread: 'main', eventLoopUtilization: 0.2, cpuMicrosPerOrder: 150 });
    expect(f.system).toEqual({ sharesGeneratorThread: false, cpuMicrosPerOrder: 700, busiestThread: { name: 'payments', eventLoopUtilization: 0.5 } });
  });

  it('with no completed order, CPU per order is null on both sides (not 0, not Infinity) and the report prints —', () => {
    const f = threadFigures(THREADS, 0);
    expect(f.generator.cpuMicrosPerOrder).toBeNull();
    expect(f.system.cpuMicrosPerOrder).toBeNull();
    // The threads still ran: their busy share and the busiest thread stand.
    expect(f.generator.eventLoopUtilization).toBe(0.2);
    expect(f.system.busiestThread).toEqual({ name: 'payments', eventLoopUtilization: 0.5 });

    const run = completedRun({ completedInWindow: 0, cost: { ...completedRun().cost, cpuMicrosPerOrder: null, ...f } });
    const [row] = summarize(resultsDoc([run]));
    const column = OUTCOME_COLUMNS.find((c) => c.header === 'CPU µs/order system / generator');
    if (!row || !column) throw new Error('no row or no CPU column');
    expect(column.cell(row)).toBe('—');
  });
});
