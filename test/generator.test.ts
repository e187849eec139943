import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { createServices, snapshotServices } from '../src/workflow/services.js';
import { directPorts, runOrderWorkflow } from '../src/workflow/workflow.js';

describe('order generator', () => {
  it('gives the same orders for the same seed and different ones for another', () => {
    const a = new OrderGenerator(seededRandom(1));
    const b = new OrderGenerator(seededRandom(1));
    const c = new OrderGenerator(seededRandom(2));
    const take = (g: OrderGenerator) => Array.from({ length: 50 }, () => g.next());
    const first = take(a);
    expect(take(b)).toEqual(first);
    expect(take(c)).not.toEqual(first);
  });

  it('produces about the configured shares of stock-outs and declines', async () => {
    const gen = new OrderGenerator(seededRandom(3), { outOfStockShare: 0.1, declineShare: 0.1 });
    const s = createServices(gen.world());
    const ports = directPorts(s);
    const reasons = new Map<string, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const outcome = await runOrderWorkflow(s.orders, ports, gen.next());
      const key = outcome.reason ?? outcome.status;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    expect((reasons.get('out_of_stock') ?? 0) / n).toBeGreaterThan(0.08);
    expect((reasons.get('out_of_stock') ?? 0) / n).toBeLessThan(0.12);
    expect((reasons.get('payment_declined') ?? 0) / n).toBeGreaterThan(0.08);
    expect((reasons.get('payment_declined') ?? 0) / n).toBeLessThan(0.12);
  });

  it('keeps every invariant for any seed and any shares (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), async (seed, oos, decl) => {
        const gen = new OrderGenerator(seededRandom(seed), { outOfStockShare: oos, declineShare: decl });
        const s = createServices(gen.world());
        const ports = directPorts(s);
        const placed = Array.from({ length: 60 }, () => gen.next());
        await Promise.all(placed.map((o) => runOrderWorkflow(s.orders, ports, o)));
        const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: snapshotServices(s) });
        expect(report.ok).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
