import { describe, expect, it } from 'vitest';
import { resolveSweepConfig } from '../src/bench/config.js';
import { InvalidOptionError } from '../src/errors.js';
import { kneeOf, stepOf, Sweeper, sweepSteps, type MeasureStep, type StepLoad } from '../src/bench/sweep.js';
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

/** A step's load figures: `achieved` orders/s of `rate` asked for, p99 `p99` ms, every order placed confirmed. */
function stepLoad(rate: number, achieved: number, p99: number, offered: number | null = rate): StepLoad {
  const placed = Math.round(rate);
  return { outcomes: { placed, confirmed: placed, cancelled: 0, failed: 0, timedOut: 0 }, throughput: { target: rate, offered, achieved }, latency: latency(p99 / 2, p99) };
}

/**
 * A constructed pattern, no real load: at `rate` it completes `achieved(rate)` orders/s
 * with p99 `p99(rate)` ms, judged by stepOf; each step takes `stepMs` on a counted clock.
 * `calls` records each step's rate and the clock when it began.
 */
function constructed(achieved: (rate: number) => number, p99: (rate: number) => number, stepMs = 1000) {
  let clock = 0;
  const calls: { rate: number; at: number }[] = [];
  const measure: MeasureStep = (rate) => {
    calls.push({ rate, at: clock });
    clock += stepMs;
    return Promise.resolve(stepOf(rate, stepLoad(rate, achieved(rate), p99(rate)), SLO));
  };
  return { measure, now: () => clock, calls, rates: () => calls.map((c) => c.rate) };
}

const SLO = 50;
/** The full (not --quick) settings: start at a quarter of the probe, ×√2 a step, 12 steps, 25 s. */
const RULE = sweepSettings(SLO, false);
const keepsUpTo = (capacity: number) => (rate: number) => Math.min(rate, capacity);
const fast = () => 2;

describe('stepOf', () => {
  it('keeps up at 95% of the rate asked for, not of the rate the generator managed to offer', () => {
    // 940 is 104% of the 900 offered but 94% of the 1,000 asked for: the step fell behind.
    const behind = stepOf(1000, stepLoad(1000, 940, 10, 900), SLO);
    expect(behind).toMatchObject({ rate: 1000, offered: 900, achieved: 940, keepsUp: false, withinSlo: true });
    expect(stepOf(1000, stepLoad(1000, 950, 10), SLO).keepsUp).toBe(true);
    expect(stepOf(1000, stepLoad(1000, 949.9, 10), SLO).keepsUp).toBe(false);
  });

  it('is within the SLO up to a p99 equal to it, and past it above', () => {
    expect(stepOf(400, stepLoad(400, 400, 50), SLO).withinSlo).toBe(true);
    expect(stepOf(400, stepLoad(400, 400, 50.01), SLO)).toMatchObject({ keepsUp: true, withinSlo: false });
  });

  it('takes offered from the load, the rate where the load has none, and success as outcomes over orders placed', () => {
    const load = stepLoad(400, 380, 10, null);
    expect(stepOf(400, load, SLO).offered).toBe(400);
    const mixed: StepLoad = { ...load, outcomes: { placed: 400, confirmed: 300, cancelled: 60, failed: 30, timedOut: 10 } };
    expect(stepOf(400, mixed, SLO).successRate).toBe(0.9);
    expect(stepOf(400, { ...load, outcomes: { placed: 0, confirmed: 0, cancelled: 0, failed: 0, timedOut: 0 } }, SLO).successRate).toBe(0);
  });
});

describe('sweepSteps, on constructed steps', () => {
  it('starts at a quarter of the probe and multiplies the rate by √2 a step (whole orders/s), stopping at the step limit', async () => {
    const p = constructed(keepsUpTo(1e9), fast);
    const steps: SweepStep[] = [];
    expect(await sweepSteps(1000, { ...RULE, maxSteps: 6 }, p.measure, steps, p.now)).toBe('steps');
    // 250 × √2 = 353.6 → 354; 354 × √2 = 500.6 → 501; 709; 1,003; 1,418.
    expect(p.rates()).toEqual([250, 354, 501, 709, 1003, 1418]);
    expect(steps.map((s) => s.rate)).toEqual([250, 354, 501, 709, 1003, 1418]);
    expect(kneeOf(steps)).toBe(1418);
  });

  it('never repeats a rate: a probe under 4 orders/s starts at 1 and steps 1, 2, 3, 4, 6', async () => {
    const p = constructed(keepsUpTo(1e9), fast);
    expect(await sweepSteps(0, { ...RULE, maxSteps: 5 }, p.measure, [], p.now)).toBe('steps');
    expect(p.rates()).toEqual([1, 2, 3, 4, 6]);
  });

  it('stops as saturated at the first step that falls behind, refines between the last that held and it, and puts the knee on the refinement that kept up', async () => {
    // Completes at most 600 orders/s: 709 falls behind (600 < 95% of 709) with a p99 well within the SLO.
    const p = constructed(keepsUpTo(600), fast);
    const steps: SweepStep[] = [];
    expect(await sweepSteps(1000, RULE, p.measure, steps, p.now)).toBe('saturated');
    // The refinement is the geometric mean of 501 and 709: 596.
    expect(p.rates()).toEqual([250, 354, 501, 709, 596]);
    expect(steps.map((s) => [s.rate, s.keepsUp, s.withinSlo])).toEqual([
      [250, true, true],
      [354, true, true],
      [501, true, true],
      [596, true, true],
      [709, false, true],
    ]);
    // Not 709, the fastest step within the SLO: it did not keep up.
    expect(kneeOf(steps)).toBe(596);
  });

  it('stops at the SLO at the first step whose p99 is over it, and refines', async () => {
    // p99 is rate / 10 ms: 501 orders/s gives 50.1 ms, over the 50 ms SLO; the refinement at 421 gives 42.1 ms.
    const p = constructed(keepsUpTo(1e9), (rate) => rate / 10);
    const steps: SweepStep[] = [];
    expect(await sweepSteps(1000, RULE, p.measure, steps, p.now)).toBe('slo');
    expect(p.rates()).toEqual([250, 354, 501, 421]);
    expect(steps.map((s) => s.rate)).toEqual([250, 354, 421, 501]);
    expect(kneeOf(steps)).toBe(421);
  });

  it('keeps the knee on the last step that held when the refinement misses too', async () => {
    // p99 is rate / 8 ms: 354 → 44.3 ms holds, 421 → 52.6 ms and 501 → 62.6 ms miss.
    const p = constructed(keepsUpTo(1e9), (rate) => rate / 8);
    const steps: SweepStep[] = [];
    expect(await sweepSteps(1000, RULE, p.measure, steps, p.now)).toBe('slo');
    expect(steps.map((s) => [s.rate, s.withinSlo])).toEqual([
      [250, true],
      [354, true],
      [421, false],
      [501, false],
    ]);
    expect(kneeOf(steps)).toBe(354);
  });

  it('does not refine when the first step misses (no knee), nor when no whole rate lies between', async () => {
    const first = constructed(keepsUpTo(100), fast);
    const none: SweepStep[] = [];
    expect(await sweepSteps(1000, RULE, first.measure, none, first.now)).toBe('saturated');
    expect(first.rates()).toEqual([250]);
    expect(kneeOf(none)).toBeNull();
    // A probe of 8 starts at 2, then 3 (2.83): the geometric mean of 2 and 3 rounds to 2.
    const tiny = constructed(keepsUpTo(2.5), fast);
    expect(await sweepSteps(8, RULE, tiny.measure, [], tiny.now)).toBe('saturated');
    expect(tiny.rates()).toEqual([2, 3]);
  });

  it('stops for time once the budget has passed after a step, and starts no step past the budget', async () => {
    // Steps of 1 s on the counted clock, a 2.5 s budget: the third step ends at 3 s.
    const p = constructed(keepsUpTo(1e9), fast);
    const steps: SweepStep[] = [];
    expect(await sweepSteps(1000, { ...RULE, budgetMs: 2500 }, p.measure, steps, p.now)).toBe('time');
    expect(p.calls).toEqual([
      { rate: 250, at: 0 },
      { rate: 354, at: 1000 },
      { rate: 501, at: 2000 },
    ]);
    expect(steps).toHaveLength(3);
  });

  it('skips the refinement when a miss comes after the budget has passed, and makes it within the budget', async () => {
    // Completes at most 450 orders/s: 501 misses, at the end of the third step.
    const late = constructed(keepsUpTo(450), fast);
    expect(await sweepSteps(1000, { ...RULE, budgetMs: 2500 }, late.measure, [], late.now)).toBe('saturated');
    expect(late.rates()).toEqual([250, 354, 501]);
    const inTime = constructed(keepsUpTo(450), fast);
    expect(await sweepSteps(1000, { ...RULE, budgetMs: 3500 }, inTime.measure, [], inTime.now)).toBe('saturated');
    expect(inTime.rates()).toEqual([250, 354, 501, 421]);
  });

  it('keeps the steps measured before a step throws', async () => {
    const steps: SweepStep[] = [];
    const p = constructed(keepsUpTo(1e9), fast);
    const failing: MeasureStep = (rate) => (rate > 400 ? Promise.reject(new Error('broker gone')) : p.measure(rate));
    await expect(sweepSteps(1000, RULE, failing, steps, p.now)).rejects.toThrow('broker gone');
    expect(steps.map((s) => s.rate)).toEqual([250, 354]);
  });
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
