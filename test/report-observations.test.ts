/** The observations read off constructed results: capacity, falling behind, equal load. */
import { describe, expect, it } from 'vitest';
import { capacities, observe } from '../src/report/observations.js';
import { summarize } from '../src/report/summary.js';
import { capacityPhase, completedRun, latency, resultsDoc } from './support/results.js';

const openLoop = (pattern: string, offered: number, achieved: number, p50: number, p99: number, target: number | null = offered) =>
  completedRun({ pattern, throughput: { target, offered, achieved }, latencyMs: latency(p50, p99) });

describe('observations', () => {
  it('name the least and the most capacity, from the medians of the capacity trials', () => {
    const phase = capacityPhase([
      ['rest', 1800],
      ['rest', 1850],
      ['rest', 1829],
      ['saga-orchestration', 600],
      ['saga-orchestration', 590],
      ['saga-orchestration', 560],
      ['grpc', 1500],
    ]);
    expect(capacities(phase)).toEqual([
      { pattern: 'rest', ordersPerSecond: 1829 },
      { pattern: 'saga-orchestration', ordersPerSecond: 590 },
      { pattern: 'grpc', ordersPerSecond: 1500 },
    ]);
    const rows = summarize(resultsDoc([openLoop('rest', 410, 410, 1, 3), openLoop('saga-orchestration', 410, 409, 2, 9)]));
    expect(observe(rows, capacities(phase))[0]).toBe('saga-orchestration has the least capacity: 590 orders/s closed loop; rest the most, 3.1× as much.');
  });

  it('say nothing about capacity without a capacity phase', () => {
    expect(capacities(undefined)).toEqual([]);
    const rows = summarize(resultsDoc([openLoop('rest', 410, 410, 1, 3)]));
    expect(observe(rows).some((o) => o.includes('capacity'))).toBe(false);
  });

  it('name an open-loop row that completed less than 95% of what it was offered, and not one at 97%', () => {
    const rows = summarize(resultsDoc([openLoop('queue', 410, 350, 1, 3), openLoop('rest', 410, 399, 1, 3)]));
    const out = observe(rows);
    expect(out).toContain('queue fell behind the offered rate: 350 of 410 orders/s.');
    expect(out.filter((o) => o.includes('fell behind'))).toHaveLength(1);
  });

  it('compare latency instead of orders completed when every row was offered one rate', () => {
    const rows = summarize(
      resultsDoc([openLoop('rest', 410, 410, 1.5, 4.1), openLoop('queue', 409.2, 409, 0.6, 1.2), openLoop('saga-orchestration', 410.4, 406, 3.2, 9.8)]),
    );
    const out = observe(rows);
    expect(out[0]).toBe('queue answered fastest at equal load: p99 1.20 ms; saga-orchestration slowest, p99 9.80 ms.');
    expect(out.some((o) => o.includes('completed the most orders'))).toBe(false);
  });

  it('say "≥" for an equal-load p99 that falls among timed-out orders', () => {
    const slow = completedRun({ pattern: 'saga-orchestration', throughput: { target: 400, offered: 400, achieved: 390 }, latencyMs: { ...latency(3, 5000), lowerBounds: 20 } });
    const rows = summarize(resultsDoc([openLoop('rest', 400, 400, 1, 3), slow]));
    expect(observe(rows)[0]).toBe('rest answered fastest at equal load: p99 3.00 ms; saga-orchestration slowest, p99 ≥ 5,000 ms.');
  });

  it('still say who completed the most orders in a closed loop', () => {
    const rows = summarize(resultsDoc([completedRun({ throughput: { target: null, offered: null, achieved: 1200 } }), completedRun({ pattern: 'grpc', throughput: { target: null, offered: null, achieved: 800 } })]));
    expect(observe(rows)[0]).toBe('rest completed the most orders: 1,200/s, 1.5× as many as grpc (800/s).');
  });

  it('compare orders completed when the rows were offered different rates', () => {
    const rows = summarize(resultsDoc([openLoop('rest', 800, 800, 1, 3), openLoop('grpc', 400, 400, 1, 3)]));
    expect(observe(rows)[0]).toBe('rest completed the most orders: 800/s, 2.0× as many as grpc (400/s).');
  });
});
