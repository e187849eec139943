/** The equal-load rate: a share of the slowest selected pattern's capacity, chosen from constructed capacity runs. */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { chooseEqualLoad } from '../src/bench/equal-load.js';
import type { CapacityRun } from '../src/bench/results.js';
import { NoCapacityError } from '../src/errors.js';
import { capacity, capacityRun, erroredCapacityRun } from './support/figures.js';

/** The default load model: equal load at 70% of the slowest capacity. */
const EQUAL = resolveRunConfig({ out: false }).load;

const aborted = (pattern: string, achieved: number | null): CapacityRun => ({ ...capacityRun(pattern, 0), state: 'aborted', achieved });

describe('chooseEqualLoad', () => {
  it("takes 70% of the slowest pattern's median capacity: not the fastest's, nor the lowest single trial's, nor an errored, aborted or empty run's", () => {
    const runs: CapacityRun[] = [
      capacityRun('direct', 9000),
      // rest's slowest trial (1,300) is below grpc's median, but its median is 2,500.
      capacityRun('rest', 1300, 20, null, 1),
      capacityRun('rest', 2500, 20, null, 2),
      capacityRun('rest', 2600, 20, null, 3),
      capacityRun('grpc', 1600, 20, null, 1),
      capacityRun('grpc', 1400, 20, null, 2),
      capacityRun('grpc', 1500, 20, null, 3),
      erroredCapacityRun('queue', 'ECONNREFUSED', 'no broker'),
      // An aborted run's figure does not count, even when it has one.
      aborted('saga-orchestration', 300),
      // A run that completed no order has no capacity to take 70% of.
      capacityRun('event-sourcing', 0),
    ];
    expect(chooseEqualLoad(EQUAL, capacity(runs))).toEqual({ rate: 1050, source: 'capacity', fraction: 0.7, basis: { pattern: 'grpc', capacity: 1500 } });
  });

  it('rounds the share to whole orders/s and takes the fraction the model gives', () => {
    if (EQUAL.kind !== 'equal') throw new Error('the default load model is equal load');
    const runs = [capacityRun('rest', 2000), capacityRun('saga-orchestration', 589)];
    // 0.7 × 589 = 412.3; 0.5 × 589 = 294.5.
    expect(chooseEqualLoad(EQUAL, capacity(runs))).toMatchObject({ rate: 412, basis: { pattern: 'saga-orchestration', capacity: 589 } });
    expect(chooseEqualLoad({ ...EQUAL, fraction: 0.5 }, capacity(runs))).toMatchObject({ rate: 295, fraction: 0.5 });
  });

  it('throws NoCapacityError naming every run when none completed an order', () => {
    const runs = [erroredCapacityRun('queue', 'ECONNREFUSED', 'no broker'), aborted('rest', null), capacityRun('grpc', 0)];
    expect(() => chooseEqualLoad(EQUAL, capacity(runs))).toThrow(new NoCapacityError(['queue: ECONNREFUSED: no broker', 'rest: aborted', 'grpc: completed no order']));
  });

  it('gives --rate as a fixed equal load and a closed loop none, without a capacity phase', () => {
    expect(chooseEqualLoad({ kind: 'open', rate: 800 }, undefined)).toEqual({ rate: 800, source: 'fixed', fraction: null, basis: null });
    expect(chooseEqualLoad({ kind: 'closed', concurrency: 8 }, undefined)).toBeUndefined();
  });
});
