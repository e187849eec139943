import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { Runner } from '../src/bench/runner.js';
import { FaultNetwork } from '../src/faults/network.js';
import { grpcPattern } from '../src/patterns/grpc/index.js';
import type { Pattern } from '../src/patterns/types.js';
import { renderMarkdown } from '../src/report/markdown.js';

/**
 * gRPC whose payments answers 150 ms late from the start (below the 2 s hop deadline): at
 * any moment about rate × 150 ms charges are made whose answers are still on the way.
 * The outage scenario then takes payments down and closes its connections, so those
 * answers never arrive; with every hop tried once (`--resilience none`) orders compensates
 * with a refund that cannot reach payments: leaked charges, every time — where the
 * outage alone leaks only the few charges in flight at that instant (in 5 of 8 tries).
 */
const slowPaymentsGrpc: Pattern = {
  ...grpcPattern,
  async start(ctx) {
    const running = await grpcPattern.start(ctx);
    if (!(ctx.network instanceof FaultNetwork)) throw new Error('the outage scenario runs on a fault network');
    ctx.network.addFault('*:payments', { type: 'latency', direction: 'downstream', latencyMs: 150, jitterMs: 0 });
    return running;
  },
};

describe('broken invariants explained, in a real run', () => {
  it('shows in report.md the journeys of the charges a grpc outage leaked under --resilience none', async () => {
    const config = {
      ...resolveRunConfig({ patterns: 'grpc', scenarios: 'outage', resilience: 'none', duration: 1.5, warmup: 0.2, quick: true, out: false, rate: 100 }),
      drainTimeoutMs: 8000,
    };
    const doc = await new Runner(config, [slowPaymentsGrpc]).run();
    const run = doc.runs[0];
    if (run?.state !== 'completed') throw new Error(`run ${run?.state}`);
    expect(run.invariants.leakedCharges).toBeGreaterThan(0);
    const leaked = run.violations?.find((v) => v.invariant === 'leakedCharges');
    if (!leaked) throw new Error(`no leakedCharges violation: ${JSON.stringify(run.violations)}`);
    expect(leaked.count).toBe(run.invariants.leakedCharges);
    expect(leaked.orders.length).toBe(Math.min(3, leaked.count));
    const first = leaked.orders[0];
    if (!first) throw new Error('no offender');
    // Placed by the client, charged by payments, cancelled by orders, never refunded.
    expect(first.journey[0]).toMatchObject({ ms: 0, service: 'client', event: 'placed' });
    expect(first.journey.some((e) => e.event === 'charged')).toBe(true);
    expect(first.journey.some((e) => e.event === 'status' && e.status === 'CANCELLED')).toBe(true);
    expect(first.journey.some((e) => e.event === 'refunded')).toBe(false);

    const md = renderMarkdown(doc);
    const section = md.slice(md.indexOf('## Broken invariants explained'));
    expect(section).toContain('### grpc / outage, trial 1');
    expect(section).toMatch(new RegExp(`\`${first.orderId}\`: [^\\n]*charged at [^\\n]*never refunded\\.`));
    expect(section).toMatch(/\| [\d.,]+ \| payments \| charge \d+ cents \|/);
  }, 60_000);
});
