/**
 * Every pattern × every scenario, short, through the real runner (faults on real proxies
 * and boundary gates, the embedded broker, the embedded event store). For each: the
 * verdict each pattern promises, and — for every scenario that disturbs something — that
 * the disturbance reached the pattern and showed in its figures.
 */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import type { CompletedRun } from '../src/bench/results.js';
import { Runner } from '../src/bench/runner.js';
import { SCENARIOS } from '../src/faults/scenarios/registry.js';
import { PATTERNS } from '../src/patterns/registry.js';

/** Patterns that promise no loss and no leak: acks and confirms, saga logs, the event log. */
const NO_LOSS = new Set(['queue', 'saga-choreography', 'saga-orchestration', 'event-sourcing']);

/**
 * A fault must show: orders failed, the p99 of the orders started during it rose by half, or
 * the pattern's own hops failed and were retried (flaky's 5% of calls, absorbed by retries on
 * a fast pattern, show in the failure table's errors column, not always in its p99).
 */
const SHOWS = 1.5;

/**
 * A latency fault shows as the latency it adds, too: on a loaded machine a slow pattern's p99
 * before the fault is already far above the 50 ms `slow-downstream` adds to each payments
 * call (146 → 204 ms for saga-orchestration, once), so a ratio can miss what a difference
 * shows. Half the added latency is the bar.
 */
function addedLatencyMs(scenario: string): number {
  const s = SCENARIOS.find((x) => x.id === scenario);
  return Math.max(0, ...(s?.steps ?? []).map((step) => (step.action.kind === 'fault' && step.action.fault.type === 'latency' ? step.action.fault.latencyMs : 0)));
}

/**
 * Fault scenarios run open loop, at a rate every pattern sustains here: clients keep
 * arriving while a service is down (a closed loop would stop sending, and the orders that
 * start "during" the fault would be the few that got through).
 */
const FAULT_RATE = 100;

function shows(r: CompletedRun): boolean {
  const f = r.failure;
  if (!f) return false;
  const p99 = (name: string) => f.segments.find((s) => s.name === name)?.latency.p99 ?? 0;
  const hopFailures = Object.entries(f.errorsByKind).some(([kind, n]) => kind.startsWith('hop ') && n > 0);
  const added = addedLatencyMs(r.scenario);
  const slowed = added > 0 && p99('during') - p99('before') >= added / 2;
  return f.successRate < 1 || p99('during') > SHOWS * p99('before') || slowed || hopFailures || (r.scenario === 'spike' && inFlight(f, 'during') > SHOWS * inFlight(f, 'before'));
}

/**
 * Orders in flight on average over a segment (Little's law: start rate × mean latency). A
 * spike multiplies the clients of the closed loop: a fast pattern answers them at the same
 * latency (the rate rises), a slow one makes them wait (latency rises); either way this
 * rises with the clients, where p99 alone only shows the second.
 */
function inFlight(f: NonNullable<CompletedRun['failure']>, name: string): number {
  const seg = f.segments.find((s) => s.name === name);
  return seg && seg.toMs > seg.fromMs ? (seg.placed / (seg.toMs - seg.fromMs)) * seg.latency.mean : 0;
}

describe.each(PATTERNS.map((p) => p.id))('%s under every scenario', (pattern) => {
  it.each(SCENARIOS.map((s) => s.id))('%s', async (scenario) => {
    // A spike stays a closed loop: five times the clients, each waiting for its order (at a fixed
    // rate far below a pattern's capacity, five times that rate would not show at all).
    // Baseline too: no capacity phase, one short run.
    const load = scenario === 'baseline' || scenario === 'spike' ? { concurrency: 10 } : { rate: FAULT_RATE };
    const config = { ...resolveRunConfig({ patterns: pattern, scenarios: scenario, duration: 1.5, warmup: 0.2, quick: true, out: false, ...load }), drainTimeoutMs: 8000 };
    const doc = await new Runner(config).run();
    const run = doc.runs[0];
    if (run?.state !== 'completed') throw new Error(`run ${run?.state}: ${JSON.stringify(run)}`);
    const r: CompletedRun = run;
    const inv = r.invariants;
    const played = JSON.stringify(r.failure?.played);
    expect(r.outcomes.placed).toBeGreaterThan(0);
    // Nobody may double-charge, oversell, lose stock or act for an order never placed — in any scenario.
    expect(inv, played).toMatchObject({ doubleCharged: 0, oversold: 0, unexpectedEffects: 0, stockNotConserved: 0, missingEffects: 0 });
    if (NO_LOSS.has(pattern)) expect(inv, played).toMatchObject({ ok: true, lost: 0, stuck: 0, leakedCharges: 0, leakedReservations: 0 });
    // Synchronous call chains answer every order and never leave stock held; a refund that
    // could not land within its retries during an outage is a leaked charge, and the report shows it.
    else expect(inv, played).toMatchObject({ lost: 0, stuck: 0, leakedReservations: 0 });

    if (scenario === 'baseline') {
      expect(r.failure).toBeNull();
      return;
    }
    if (!r.failure) throw new Error(`${scenario} gave no failure figures`);
    // The scenario reached this pattern: a fault on one of its hops or boundaries, a crash, or a surge.
    expect(r.failure.applied, played).toBe(true);
    expect(played).not.toMatch(/no hop of this pattern matches|is not in this pattern/);
    // And it showed.
    expect(shows(r), `${played} success ${r.failure.successRate}, segments ${JSON.stringify(r.failure.segments.map((s) => [s.name, s.latency.p99]))}`).toBe(true);
  }, 60_000);
});
