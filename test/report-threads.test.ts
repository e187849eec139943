/** The report's cost per thread and placement, on constructed results (no run needed). */
import { describe, expect, it } from 'vitest';
import { OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, saturationNotes } from '../src/report/columns.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { summarize } from '../src/report/summary.js';
import { placementLine, renderTables } from '../src/report/table.js';
import { completedRun, resultsDoc } from './support/results.js';

const cell = (header: string, row: ReturnType<typeof summarize>[number]) => {
  const column = OUTCOME_COLUMNS.find((c) => c.header === header);
  if (!column) throw new Error(`no column ${header}`);
  return column.cell(row);
};

describe('cost per thread in the report', () => {
  it('shows the system’s and the generator’s CPU per order apart, the busiest system thread and the generator’s busy share', () => {
    const run = completedRun({
      cost: {
        ...completedRun().cost,
        eventLoopUtilization: 0.31,
        generator: { thread: 'main', eventLoopUtilization: 0.31, cpuMicrosPerOrder: 142.5 },
        system: { sharesGeneratorThread: false, cpuMicrosPerOrder: 812.25, busiestThread: { name: 'payments', eventLoopUtilization: 0.874 } },
      },
    });
    const [row] = summarize(resultsDoc([run]));
    if (!row) throw new Error('no row');
    expect(cell('CPU µs/order system / generator', row)).toBe('812.3 / 142.5');
    expect(cell('busiest thread', row)).toBe('payments 87%');
    expect(cell('generator busy', row)).toBe('31%');
  });

  it('says "together" when the system shares the generator’s thread, and "process" where one thread’s CPU cannot be told', () => {
    const shared = completedRun({
      cost: { ...completedRun().cost, cpuMicrosPerOrder: 1234, generator: { thread: 'main', eventLoopUtilization: 1, cpuMicrosPerOrder: null }, system: { sharesGeneratorThread: true, cpuMicrosPerOrder: null, busiestThread: { name: 'main', eventLoopUtilization: 1 } } },
    });
    const noPerThread = completedRun({
      pattern: 'grpc',
      cost: { ...completedRun().cost, cpuMicrosPerOrder: 2000, generator: { thread: 'main', eventLoopUtilization: 0.2, cpuMicrosPerOrder: null }, system: { sharesGeneratorThread: false, cpuMicrosPerOrder: null, busiestThread: null } },
    });
    const [a, b] = summarize(resultsDoc([shared, noPerThread]));
    if (!a || !b) throw new Error('rows missing');
    expect(cell('CPU µs/order system / generator', a)).toBe('1,234 together');
    expect(cell('generator busy', a)).toBe('shared');
    expect(cell('CPU µs/order system / generator', b)).toBe('2,000 process');
    expect(cell('busiest thread', b)).toBe('—');
  });

  it('shows — for CPU per order when no order completed, not 0', () => {
    const idle = completedRun({ outcomes: { placed: 10, confirmed: 0, cancelled: 0, failed: 10, timedOut: 0 }, cost: { ...completedRun().cost, cpuMicrosPerOrder: null, generator: { thread: 'main', eventLoopUtilization: 0.1, cpuMicrosPerOrder: null }, system: { sharesGeneratorThread: false, cpuMicrosPerOrder: null, busiestThread: null } } });
    const [row] = summarize(resultsDoc([idle]));
    if (!row) throw new Error('no row');
    expect(cell('CPU µs/order system / generator', row)).toBe('—');
  });

  it('marks bytes and messages per order that leave a store’s traffic out', () => {
    const pg = completedRun({ pattern: 'event-sourcing', transport: { protocol: 'HTTP/1.1 commands and queries + PostgreSQL event store', encoding: 'JSON', broker: null, placement: 'shared', wireExcludes: 'PostgreSQL' }, cost: { ...completedRun().cost, bytesPerOrder: 1204.4, messagesPerOrder: 4 } });
    const [row] = summarize(resultsDoc([pg]));
    if (!row) throw new Error('no row');
    const perf = (header: string) => PERFORMANCE_COLUMNS.find((c) => c.header === header)?.cell(row);
    expect(perf('bytes/order')).toBe('1,204 excl. PostgreSQL');
    expect(perf('msgs/order')).toBe('4.0 excl. PostgreSQL');
  });

  it('names a thread at 95% or more in words, and not one at 94%', () => {
    const hot = completedRun({ cost: { ...completedRun().cost, system: { sharesGeneratorThread: false, cpuMicrosPerOrder: 500, busiestThread: { name: 'payments', eventLoopUtilization: 0.98 } } } });
    const warm = completedRun({ pattern: 'grpc', cost: { ...completedRun().cost, system: { sharesGeneratorThread: false, cpuMicrosPerOrder: 500, busiestThread: { name: 'orders', eventLoopUtilization: 0.94 } } } });
    const notes = saturationNotes(summarize(resultsDoc([hot, warm])));
    expect(notes).toEqual(['rest (baseline): payments thread 98% busy: this row measures that thread.']);
  });

  it('puts the run’s placement in the terminal header and the report, and the pattern’s differences under its card', () => {
    const doc = resultsDoc([completedRun({ transport: { protocol: 'AMQP 0-9-1', encoding: 'JSON', broker: 'RabbitMQ 3.12', placement: 'per-service', notes: ['the broker is an external process'] }, pattern: 'queue' })], { placement: 'per-service' });
    expect(placementLine(doc)).toBe('Placement: per-service — each service, the broker, each processor and the orchestrator on a worker thread of its own; the load generator on the main thread');
    expect(renderTables(doc, { wide: true }).split('\n')[0]).toBe(placementLine(doc));
    const md = renderMarkdown(doc);
    expect(md).toContain('placement per-service: each service, the broker, each processor and the orchestrator on a worker thread of its own');
    expect(md).toContain('### queue title (`queue`)');
    expect(md).toContain('*Where this pattern differs:* the broker is an external process.');
  });
});
