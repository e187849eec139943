import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { createServices, snapshotServices, type SystemSnapshot } from '../src/workflow/services.js';
import { directPorts, runOrderWorkflow } from '../src/workflow/workflow.js';
import type { OrderRequest } from '../src/workflow/types.js';

/** A healthy system after 300 orders through the direct workflow. */
async function healthy(): Promise<{ placed: OrderRequest[]; accepted: Set<string>; snapshot: SystemSnapshot }> {
  const gen = new OrderGenerator(seededRandom(7));
  const services = createServices(gen.world());
  const ports = directPorts(services);
  const placed: OrderRequest[] = [];
  for (let i = 0; i < 300; i++) placed.push(gen.next());
  await Promise.all(placed.map((o) => runOrderWorkflow(services.orders, ports, o)));
  return { placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: snapshotServices(services) };
}

const byStatus = (snap: SystemSnapshot, status: string) => snap.orders.orders.filter((o) => o.status === status).map((o) => o.orderId);

describe('invariant checker', () => {
  it('passes a healthy run that exercised both cancellation paths', async () => {
    const input = await healthy();
    expect(byStatus(input.snapshot, 'CANCELLED').length).toBeGreaterThan(30);
    const report = checkInvariants(input);
    expect(report).toEqual({
      ok: true,
      stuck: 0,
      lost: 0,
      doubleCharged: 0,
      leakedCharges: 0,
      missingEffects: 0,
      oversold: 0,
      stockNotConserved: 0,
      leakedReservations: 0,
      unexpectedEffects: 0,
      duplicatesAbsorbed: 0,
    });
  });

  it('counts a double charge', async () => {
    const input = await healthy();
    const victim = byStatus(input.snapshot, 'CONFIRMED')[0] as string;
    const entry = input.snapshot.payments.ledger.find((e) => e.orderId === victim);
    const snapshot = { ...input.snapshot, payments: { ...input.snapshot.payments, ledger: [...input.snapshot.payments.ledger, entry!] } };
    const report = checkInvariants({ ...input, snapshot });
    expect(report.doubleCharged).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('counts a leaked reservation and a leaked charge on a cancelled order', async () => {
    const input = await healthy();
    // A cancelled order of the healthy run holds nothing; forge a held reservation and a net charge for it.
    const victim = byStatus(input.snapshot, 'CANCELLED')[0] as string;
    const [sku, left] = Object.entries(input.snapshot.inventory.available).find(([, qty]) => qty > 0) as [string, number];
    const reservations = [...input.snapshot.inventory.reservations.filter((r) => r.orderId !== victim), { orderId: victim, items: [{ sku, qty: 1 }], state: 'held' as const }];
    // Keep stock accounting consistent so that only the leak is reported.
    const available = { ...input.snapshot.inventory.available, [sku]: left - 1 };
    const ledger = [...input.snapshot.payments.ledger, { orderId: victim, customerId: 'x', kind: 'charge' as const, amountCents: 1 }];
    const report = checkInvariants({
      ...input,
      snapshot: { ...input.snapshot, inventory: { ...input.snapshot.inventory, reservations, available }, payments: { ...input.snapshot.payments, ledger } },
    });
    expect(report).toMatchObject({ ok: false, leakedReservations: 1, leakedCharges: 1, stockNotConserved: 0, oversold: 0 });
  });

  it('counts a stuck order and a lost one', async () => {
    const input = await healthy();
    const [stuckId, lostId] = byStatus(input.snapshot, 'CONFIRMED');
    const orders = input.snapshot.orders.orders
      .filter((o) => o.orderId !== lostId)
      .map((o) => (o.orderId === stuckId ? { orderId: o.orderId, status: 'CHARGED' as const } : o));
    const report = checkInvariants({ ...input, snapshot: { ...input.snapshot, orders: { ...input.snapshot.orders, orders } } });
    expect(report.stuck).toBe(1);
    expect(report.lost).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('counts an oversold SKU', async () => {
    const input = await healthy();
    const available = { ...input.snapshot.inventory.available, 'hot-0': -1 };
    const report = checkInvariants({ ...input, snapshot: { ...input.snapshot, inventory: { ...input.snapshot.inventory, available } } });
    expect(report.oversold).toBe(1);
    expect(report.stockNotConserved).toBe(1);
    expect(report.ok).toBe(false);
  });

  it('counts effects for an order that was never placed', async () => {
    const input = await healthy();
    const ledger = [...input.snapshot.payments.ledger, { orderId: 'ghost', customerId: 'cust-1', kind: 'charge' as const, amountCents: 100 }];
    const reservations = [...input.snapshot.inventory.reservations, { orderId: 'ghost-2', items: [], state: 'released' as const }];
    const report = checkInvariants({
      ...input,
      snapshot: { ...input.snapshot, payments: { ...input.snapshot.payments, ledger }, inventory: { ...input.snapshot.inventory, reservations } },
    });
    expect(report.unexpectedEffects).toBe(2);
    expect(report.ok).toBe(false);
  });

  it('counts a confirmed order without its charge', async () => {
    const input = await healthy();
    const victim = byStatus(input.snapshot, 'CONFIRMED')[0];
    const ledger = input.snapshot.payments.ledger.filter((e) => e.orderId !== victim);
    const report = checkInvariants({ ...input, snapshot: { ...input.snapshot, payments: { ...input.snapshot.payments, ledger } } });
    expect(report.missingEffects).toBe(1);
  });

  it('reports absorbed duplicates without failing', async () => {
    const input = await healthy();
    const report = checkInvariants({ ...input, snapshot: { ...input.snapshot, payments: { ...input.snapshot.payments, duplicates: 4 } } });
    expect(report.duplicatesAbsorbed).toBe(4);
    expect(report.ok).toBe(true);
  });
});
