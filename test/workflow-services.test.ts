import { describe, expect, it } from 'vitest';
import { InventoryService } from '../src/workflow/inventory.js';
import { OrdersService } from '../src/workflow/orders.js';
import { PaymentsService } from '../src/workflow/payments.js';
import { createServices, snapshotServices } from '../src/workflow/services.js';
import { directPorts, runOrderWorkflow, type WorkflowPorts } from '../src/workflow/workflow.js';
import type { OrderRequest } from '../src/workflow/types.js';

const order = (orderId: string, customerId = 'rich', items = [{ sku: 'a', qty: 2 }], amountCents = 1000): OrderRequest => ({
  orderId,
  customerId,
  items,
  amountCents,
});

describe('inventory', () => {
  it('reserves all items or none, and a repeated reserve changes nothing', () => {
    const inv = new InventoryService({ a: 3, b: 1 });
    expect(inv.reserve('o1', [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 2 }])).toEqual({ ok: false, reason: 'out_of_stock' });
    expect(inv.snapshot().available).toEqual({ a: 3, b: 1 });
    expect(inv.reserve('o2', [{ sku: 'a', qty: 2 }])).toEqual({ ok: true });
    expect(inv.reserve('o2', [{ sku: 'a', qty: 2 }])).toEqual({ ok: true });
    expect(inv.snapshot().available.a).toBe(1);
    expect(inv.snapshot().duplicates).toBe(1);
  });

  it('releases once; a release before its reserve blocks the late reserve', () => {
    const inv = new InventoryService({ a: 3 });
    inv.reserve('o1', [{ sku: 'a', qty: 2 }]);
    expect(inv.release('o1')).toBe(true);
    expect(inv.release('o1')).toBe(false);
    expect(inv.snapshot().available.a).toBe(3);
    expect(inv.release('late')).toBe(false);
    expect(inv.reserve('late', [{ sku: 'a', qty: 1 }])).toEqual({ ok: false, reason: 'out_of_stock' });
    expect(inv.snapshot().available.a).toBe(3);
  });
});

describe('payments', () => {
  it('charges once, declines without funds, refunds once', () => {
    const pay = new PaymentsService({ rich: 5000, poor: 10 });
    expect(pay.charge('o1', 'rich', 1000)).toEqual({ ok: true });
    expect(pay.charge('o1', 'rich', 1000)).toEqual({ ok: true });
    expect(pay.charge('o2', 'poor', 1000)).toEqual({ ok: false, reason: 'payment_declined' });
    expect(pay.refund('o1')).toBe(true);
    expect(pay.refund('o1')).toBe(false);
    const snap = pay.snapshot();
    expect(snap.ledger.map((e) => e.kind)).toEqual(['charge', 'refund']);
    expect(snap.declined).toEqual(['o2']);
    expect(snap.duplicates).toBe(2);
  });

  it('a refund before its charge declines the late charge', () => {
    const pay = new PaymentsService({ rich: 5000 });
    expect(pay.refund('o1')).toBe(false);
    expect(pay.charge('o1', 'rich', 1000)).toEqual({ ok: false, reason: 'payment_declined' });
    expect(pay.snapshot().ledger).toEqual([]);
  });
});

describe('orders', () => {
  it('moves forward only and keeps the first terminal state', () => {
    const orders = new OrdersService();
    const seen: string[] = [];
    orders.watch('o1', (r) => seen.push(r.status));
    orders.create(order('o1'));
    expect(orders.advance('o1', 'CHARGED')).toBe(true);
    expect(orders.advance('o1', 'CHARGED')).toBe(false);
    expect(orders.advance('o1', 'RESERVED')).toBe(true);
    expect(orders.advance('o1', 'CHARGED')).toBe(false);
    expect(orders.finish('o1', 'CONFIRMED')).toBe(true);
    expect(orders.finish('o1', 'CANCELLED', 'payment_declined')).toBe(false);
    expect(seen).toEqual(['PENDING', 'CHARGED', 'RESERVED', 'CONFIRMED']);
    expect(orders.outcome('o1')).toEqual({ orderId: 'o1', status: 'CONFIRMED' });
  });
});

describe('runOrderWorkflow', () => {
  const world = { stock: { a: 10, hot: 1 }, balances: { rich: 1_000_000, poor: 1 } };

  it('charges before it reserves: confirms, refunds an out-of-stock order, and undoes nothing for a declined one', async () => {
    const s = createServices(world);
    const calls: string[] = [];
    const direct = directPorts(s);
    const ports: WorkflowPorts = {
      reserve: (o) => (calls.push(`reserve ${o.orderId}`), direct.reserve(o)),
      release: (id) => (calls.push(`release ${id}`), direct.release(id)),
      charge: (o) => (calls.push(`charge ${o.orderId}`), direct.charge(o)),
      refund: (id) => (calls.push(`refund ${id}`), direct.refund(id)),
      notify: (id, st) => (calls.push(`notify ${id} ${st}`), direct.notify(id, st)),
    };
    expect(await runOrderWorkflow(s.orders, ports, order('ok'))).toEqual({ orderId: 'ok', status: 'CONFIRMED' });
    expect(await runOrderWorkflow(s.orders, ports, order('oos', 'rich', [{ sku: 'hot', qty: 5 }]))).toEqual({
      orderId: 'oos',
      status: 'CANCELLED',
      reason: 'out_of_stock',
    });
    expect(await runOrderWorkflow(s.orders, ports, order('poor', 'poor'))).toEqual({ orderId: 'poor', status: 'CANCELLED', reason: 'payment_declined' });
    expect(calls).toEqual([
      'charge ok', 'reserve ok', 'notify ok CONFIRMED',
      'charge oos', 'reserve oos', 'refund oos', 'notify oos CANCELLED',
      'charge poor', 'notify poor CANCELLED',
    ]);
    const snap = snapshotServices(s);
    expect(snap.inventory.available.a).toBe(8);
    expect(snap.payments.ledger.filter((e) => e.orderId === 'oos').map((e) => e.kind)).toEqual(['charge', 'refund']);
    expect(snap.inventory.reservations.find((r) => r.orderId === 'poor')).toBeUndefined();
    expect(snap.notifications.sent).toBe(3);
  });

  it('placing the same order twice returns the first outcome and charges once', async () => {
    const s = createServices(world);
    const ports = directPorts(s);
    const [a, b] = await Promise.all([runOrderWorkflow(s.orders, ports, order('dup')), runOrderWorkflow(s.orders, ports, order('dup'))]);
    expect(a).toEqual(b);
    expect(snapshotServices(s).payments.ledger).toHaveLength(1);
  });

  it('a failed charge hop refunds (the charge may have landed), reserves nothing, and cancels with downstream_error', async () => {
    const s = createServices(world);
    const hopErrors: string[] = [];
    const ports: WorkflowPorts = {
      ...directPorts(s),
      charge: async (o) => {
        s.payments.charge(o.orderId, o.customerId, o.amountCents); // the charge lands, the reply is lost
        throw new Error('timeout');
      },
    };
    const outcome = await runOrderWorkflow(s.orders, ports, order('t1'), (hop) => hopErrors.push(hop));
    expect(outcome).toEqual({ orderId: 't1', status: 'CANCELLED', reason: 'downstream_error' });
    expect(hopErrors).toEqual(['charge']);
    const snap = snapshotServices(s);
    expect(snap.payments.ledger.map((e) => e.kind)).toEqual(['charge', 'refund']);
    expect(snap.inventory.reservations).toEqual([]);
    expect(snap.inventory.available.a).toBe(10);
  });

  it('a failed reserve hop releases, then refunds (newest first), and cancels with downstream_error', async () => {
    const s = createServices(world);
    const undone: string[] = [];
    const direct = directPorts(s);
    const ports: WorkflowPorts = {
      ...direct,
      reserve: async (o) => {
        s.inventory.reserve(o.orderId, o.items); // the reservation lands, the reply is lost
        throw new Error('timeout');
      },
      release: (id) => (undone.push('release'), direct.release(id)),
      refund: (id) => (undone.push('refund'), direct.refund(id)),
    };
    const outcome = await runOrderWorkflow(s.orders, ports, order('t2'));
    expect(outcome).toEqual({ orderId: 't2', status: 'CANCELLED', reason: 'downstream_error' });
    expect(undone).toEqual(['release', 'refund']);
    const snap = snapshotServices(s);
    expect(snap.inventory.available.a).toBe(10);
    expect(snap.payments.ledger.map((e) => e.kind)).toEqual(['charge', 'refund']);
  });
});
