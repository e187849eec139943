import { describe, expect, it } from 'vitest';
import { resolveSweepConfig } from '../src/bench/config.js';
import { InvalidOptionError } from '../src/errors.js';
import { kneeOf, Sweeper } from '../src/bench/sweep.js';
import type { SweepStep } from '../src/bench/results.js';
import { sweepSettings } from '../src/bench/sweep-settings.js';
import { latency } from './support/results.js';

const step = (rate: number, achieved: number, p99: number, slo = 50): SweepStep => ({
  rate,
  offered: rate,
  achieved,
  latencyMs: latency(p99 / 2, p99),
  successRate: 1,
  keepsUp: achieved >= 0.95 * rate,
  withinSlo: p99 <= slo,
});

describe('sweep', () => {
  it('the knee is the highest rate that kept up within the SLO, not the last step nor the fastest', () => {
    // 400 kept up within the SLO; 566 kept up but broke the SLO; 800 fell behind.
    expect(kneeOf([step(200, 200, 2), step(283, 282, 3), step(400, 396, 9), step(566, 560, 80), step(800, 610, 300)])).toBe(400);
    // A refinement step inserted between two others counts by its rate.
    expect(kneeOf([step(200, 200, 2), step(476, 470, 12), step(400, 399, 9), step(566, 500, 80)])).toBe(476);
    expect(kneeOf([step(200, 150, 2)])).toBeNull();
  });

  it('--slo is validated and lands in the config with the quick settings', () => {
    const config = resolveSweepConfig({ slo: '20', quick: true, out: false, patterns: 'direct' });
    expect(config.load).toEqual({ kind: 'sweep', settings: sweepSettings(20, true) });
    expect(config.scenarios).toEqual(['baseline']);
    expect(() => resolveSweepConfig({ slo: '0', out: false })).toThrow(new InvalidOptionError('--slo', '0', 'a p99 latency objective in ms > 0'));
  });

  it('sweeps direct from a quarter of its probe up by √2 a step until a step misses, with invariants checked', async () => {
    const config = resolveSweepConfig({ quick: true, out: false, patterns: 'direct', warmup: 0.1 });
    // A tight SLO and a short budget keep the test short; the sweep must stop by itself.
    const settings = { ...sweepSettings(5, true), stepMs: 200, rampMs: 50, probeMs: 200, budgetMs: 4000 };
    const seen: SweepStep[] = [];
    const sweeper = new Sweeper(config, settings);
    sweeper.on('step', ({ step: s }) => seen.push(s));
    const doc = await sweeper.run();
    const curve = doc.sweep?.curves[0];
    expect(doc.runs).toEqual([]);
    expect(curve?.state).toBe('completed');
    if (!curve || curve.probe === null) throw new Error('no probe');
    const steps = curve.steps;
    expect(steps.length).toBe(seen.length);
    expect(steps[0]?.rate).toBe(Math.max(1, Math.round(curve.probe * 0.25)));
    // Rates rise; each unrefined step is √2 × the one before (whole orders/s).
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.rate).toBeGreaterThan(steps[i - 1]!.rate);
    expect(['saturated', 'slo', 'steps', 'time']).toContain(curve.stoppedBy);
    if (curve.stoppedBy === 'saturated' || curve.stoppedBy === 'slo') expect(steps.some((s) => !s.keepsUp || !s.withinSlo)).toBe(true);
    expect(curve.knee).toBe(kneeOf(steps));
    expect(curve.invariants?.ok).toBe(true);
  }, 60_000);
});
