/**
 * Every pattern × every scenario, short, through the real runner (faults on real proxies,
 * the embedded broker, the memory event store), with the invariant verdicts each pattern
 * promises asserted.
 */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import type { CompletedRun } from '../src/bench/results.js';
import { Runner } from '../src/bench/runner.js';
import { SCENARIOS } from '../src/faults/scenarios/registry.js';
import { PATTERNS } from '../src/patterns/registry.js';

/** Patterns that promise no loss: acks and confirms, saga logs, the event log. */
const NO_LOSS = new Set(['queue', 'saga-choreography', 'saga-orchestration', 'event-sourcing']);
const SYNCHRONOUS = new Set(['rest', 'grpc']);

describe.each(PATTERNS.map((p) => p.id))('%s under every scenario', (pattern) => {
  it.each(SCENARIOS.map((s) => s.id))('%s', async (scenario) => {
    const config = { ...resolveRunConfig({ patterns: pattern, scenarios: scenario, duration: 1.5, warmup: 0.2, quick: true, out: false }), drainTimeoutMs: 8000 };
    const doc = await new Runner(config).run();
    const run = doc.runs[0];
    if (run?.state !== 'completed') throw new Error(`run ${run?.state}: ${JSON.stringify(run)}`);
    const r: CompletedRun = run;
    const inv = r.invariants;
    expect(r.outcomes.placed).toBeGreaterThan(0);
    // Nobody may double-charge, oversell or act for an order never placed — in any scenario.
    expect(inv).toMatchObject({ doubleCharged: 0, oversold: 0, unexpectedEffects: 0, stockNotConserved: 0 });
    if (NO_LOSS.has(pattern) || pattern === 'direct') {
      expect(inv, JSON.stringify(r.failure?.played)).toMatchObject({ ok: true, lost: 0, stuck: 0 });
    }
    if (SYNCHRONOUS.has(pattern)) {
      expect(inv.leakedReservations).toBe(0);
      if (scenario === 'outage') expect(r.outcomes.failed + r.outcomes.timedOut).toBeGreaterThan(0);
    }
    if (scenario !== 'baseline') expect(r.failure).not.toBeNull();
  }, 60_000);
});
