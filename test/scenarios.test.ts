import { describe, expect, it } from 'vitest';
import { timeToRecover } from '../src/bench/failure.js';
import type { TimelinePoint } from '../src/bench/loadgen.js';
import { faultWindow, needsFaultNetwork, segmentsOf, surgesOf } from '../src/bench/player.js';
import { getScenario, SCENARIOS } from '../src/faults/scenarios/registry.js';
import { createToxic } from '../src/faults/toxics/registry.js';

const slices = (pairs: [number, number][]): TimelinePoint[] => pairs.map(([completed, failed], i) => ({ atMs: i * 100, completed, failed }));

describe('scenarios are data', () => {
  it('every built-in scenario is valid: shares in [0, 1], faults that build', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual(['baseline', 'slow-downstream', 'outage', 'flaky', 'crash', 'spike']);
    for (const s of SCENARIOS) {
      for (const step of s.steps) {
        expect(step.at).toBeGreaterThanOrEqual(0);
        expect(step.until ?? 1).toBeLessThanOrEqual(1);
        expect(step.until ?? 1).toBeGreaterThan(step.at);
        if (step.action.kind === 'fault') {
          const { fault } = step.action;
          expect(() => createToxic(fault)).not.toThrow();
        }
      }
    }
  });

  it('outage: payments down for the middle of the window, reported before/during/after', () => {
    const outage = getScenario('outage');
    expect(needsFaultNetwork(outage)).toBe(true);
    expect(faultWindow(outage, 4000)).toEqual({ fromMs: 1400, toMs: 2600 });
    expect(segmentsOf(outage, 4000)).toEqual([
      { name: 'before', fromMs: 0, toMs: 1400 },
      { name: 'during', fromMs: 1400, toMs: 2600, claimsOverlapping: true },
      { name: 'after', fromMs: 2600, toMs: 4000 },
    ]);
    expect(surgesOf(outage, 4000)).toEqual([]);
  });

  it('spike: five times the load for the middle fifth, no proxy needed', () => {
    const spike = getScenario('spike');
    expect(needsFaultNetwork(spike)).toBe(false);
    expect(surgesOf(spike, 1000)).toEqual([{ fromMs: 400, toMs: 600, multiplier: 5 }]);
    expect(segmentsOf(getScenario('baseline'), 1000)).toEqual([]);
  });
});

describe('time to recover', () => {
  it('is the time from the end of the fault to the first healthy run of slices', () => {
    // before: 10 ok per slice; during (300–600 ms): failing; after: fails once more, then healthy.
    const t = slices([[10, 0], [10, 0], [10, 0], [2, 8], [0, 10], [1, 9], [5, 5], [10, 0], [10, 0], [10, 0]]);
    expect(timeToRecover(t, 100, 300, 600)).toBe(100);
  });

  it('is 0 when the fault never hurt, null when the system never came back', () => {
    const fine = slices([[10, 0], [10, 0], [10, 0], [10, 0], [10, 0], [10, 0]]);
    expect(timeToRecover(fine, 100, 200, 400)).toBe(0);
    const broken = slices([[10, 0], [10, 0], [0, 10], [0, 10], [0, 10], [0, 10]]);
    expect(timeToRecover(broken, 100, 200, 400)).toBeNull();
  });

  it('needs the throughput back too, not just the absence of failures', () => {
    const slow = slices([[10, 0], [10, 0], [0, 10], [0, 10], [2, 0], [2, 0], [10, 0], [10, 0]]);
    expect(timeToRecover(slow, 100, 200, 400)).toBe(200);
  });
});
