import { afterEach, describe, expect, it } from 'vitest';
import type { EventDrivenSystem } from '../src/amqp/system.js';
import { sagaChoreographyPattern } from '../src/patterns/saga-choreography/index.js';
import { DIRECT_NETWORK } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { BROKERS, brokerName } from './support/brokers.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

let system: EventDrivenSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const world = { stock: { apple: 100, gone: 0 }, balances: { rich: 1_000_000, broke: 1 } };
const order = (orderId: string, customerId: string, sku: string): OrderRequest => ({ orderId, customerId, items: [{ sku, qty: 1 }], amountCents: 500 });

describe.each(BROKERS)('saga choreography on %s', (broker) => {
  it(`injects a failure at each step; compensations run once each, in reverse order (${brokerName(broker)})`, async () => {
    system = (await sagaChoreographyPattern.start({
      world,
      random: seededRandom(1),
      options: { broker, eventStore: 'memory' },
      network: DIRECT_NETWORK,
    })) as EventDrivenSystem;
    const ok = order('ok', 'rich', 'apple');
    const failAtPayment = order('fail-payment', 'broke', 'apple');
    const failAtStock = order('fail-stock', 'rich', 'gone');
    const outcomes = await Promise.all([ok, failAtPayment, failAtStock].map((o) => system!.placeOrder(o)));
    expect(outcomes.map(({ orderId, status, reason }) => ({ orderId, status, reason }))).toEqual([
      { orderId: 'ok', status: 'CONFIRMED', reason: undefined },
      { orderId: 'fail-payment', status: 'CANCELLED', reason: 'payment_declined' },
      { orderId: 'fail-stock', status: 'CANCELLED', reason: 'out_of_stock' },
    ]);
    await system.drain(5000);
    const snap = await system.snapshot();
    const ledger = (id: string) => snap.payments.ledger.filter((e) => e.orderId === id).map((e) => e.kind);
    // Step 1 failed: nothing happened before it, nothing to undo.
    expect(ledger('fail-payment')).toEqual([]);
    expect(snap.inventory.reservations.find((r) => r.orderId === 'fail-payment')).toBeUndefined();
    // Step 2 failed: step 1 (the charge) is undone exactly once, after it happened.
    expect(ledger('fail-stock')).toEqual(['charge', 'refund']);
    expect(snap.inventory.reservations.find((r) => r.orderId === 'fail-stock')?.state).toBe('rejected');
    expect(ledger('ok')).toEqual(['charge']);
    const placed = [ok, failAtPayment, failAtStock];
    expect(checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: snap }).ok).toBe(true);
    expect((await system.compensation()).count).toBe(1);
  });

  it(`keeps every invariant under load, compensating the stock-outs (${brokerName(broker)})`, async () => {
    // No stock on the scarce SKUs: stock-outs from the first orders, however few a loaded machine places.
    const started = await startPattern(sagaChoreographyPattern, { broker }, undefined, 42, undefined, { scarceStock: 0 });
    system = started.running as EventDrivenSystem;
    const r = await loadAndCheck(system, started.generator, { durationMs: 800 });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, doubleCharged: 0, leakedCharges: 0, leakedReservations: 0 });
    expect((await system.compensation()).count).toBeGreaterThan(0);
  });

  it(`a participant killed mid-run: every saga ends terminal, none compensated twice (${brokerName(broker)})`, async () => {
    const started = await startPattern(sagaChoreographyPattern, { broker });
    system = started.running as EventDrivenSystem;
    const s = system;
    const r = await loadAndCheck(system, started.generator, {
      durationMs: 1200,
      at: { ms: 500, action: () => Promise.all([s.crash('payments'), s.crash('inventory')]).then(() => undefined) },
    });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0, leakedCharges: 0 });
    const refunds = new Map<string, number>();
    for (const e of (await system.snapshot()).payments.ledger) if (e.kind === 'refund') refunds.set(e.orderId, (refunds.get(e.orderId) ?? 0) + 1);
    expect(Math.max(0, ...refunds.values())).toBeLessThanOrEqual(1);
    expect(r.invariants.duplicatesAbsorbed).toBeGreaterThan(0);
  });
});
