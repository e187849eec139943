/**
 * Same footing: the same seed places the same orders in every pattern. At a fixed open-loop
 * rate that every pattern sustains, each pattern's window receives exactly the same orders
 * (the warm-up draws from a generator of its own), so the share of cancelled orders — out
 * of stock, payment declined — is the same everywhere, whatever the transport.
 */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import type { CompletedRun } from '../src/bench/results.js';
import { Runner } from '../src/bench/runner.js';
import { PATTERNS } from '../src/patterns/registry.js';

describe('the same orders in every pattern', () => {
  it('at a fixed --rate every pattern gets the same window of orders, and the same share of them is cancelled (within 1 point)', async () => {
    const config = { ...resolveRunConfig({ patterns: PATTERNS.map((p) => p.id), scenarios: 'baseline', rate: 150, duration: 1.5, warmup: 0.2, quick: true, out: false }), sequentialMs: 0 };
    const doc = await new Runner(config).run();
    const runs = doc.runs.filter((r): r is CompletedRun => r.state === 'completed');
    expect(runs.map((r) => r.pattern)).toEqual(PATTERNS.map((p) => p.id));
    const placed = runs.map((r) => r.outcomes.placed);
    // An open loop starts exactly rate × duration orders in the window, the same ones.
    expect(new Set(placed).size).toBe(1);
    expect(placed[0]).toBe(225);
    for (const r of runs) expect(r.outcomes, r.pattern).toMatchObject({ failed: 0, timedOut: 0 });
    const shares = runs.map((r) => r.outcomes.cancelled / (r.outcomes.confirmed + r.outcomes.cancelled));
    // The generator's shares: 10% ask for a scarce SKU, 10% cannot pay.
    for (const share of shares) expect(share).toBeGreaterThan(0.1);
    expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(0.01);
  }, 120_000);
});
