import { describe, expect, it } from 'vitest';
import { faultWindow, needsFaultNetwork, segmentsOf, surgesOf } from '../src/bench/player.js';
import { getScenario, SCENARIOS } from '../src/faults/scenarios/registry.js';
import { createToxic } from '../src/faults/toxics/registry.js';


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

  it('outage: payments down from 20% to 40% of the window, reported before/during/after', () => {
    const outage = getScenario('outage');
    expect(needsFaultNetwork(outage)).toBe(true);
    expect(faultWindow(outage, 4000)).toEqual({ fromMs: 800, toMs: 1600 });
    expect(segmentsOf(outage, 4000)).toEqual([
      { name: 'before', fromMs: 0, toMs: 800 },
      { name: 'during', fromMs: 800, toMs: 1600, claimsOverlapping: true },
      { name: 'after', fromMs: 1600, toMs: 4000 },
    ]);
    expect(surgesOf(outage, 4000)).toEqual([]);
  });

  it('spike: five times the load from 30% to 50% of the window, no proxy needed', () => {
    const spike = getScenario('spike');
    expect(needsFaultNetwork(spike)).toBe(false);
    expect(surgesOf(spike, 1000)).toEqual([{ fromMs: 300, toMs: 500, multiplier: 5 }]);
    expect(segmentsOf(getScenario('baseline'), 1000)).toEqual([]);
  });
});

