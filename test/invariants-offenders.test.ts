import { describe, expect, it } from 'vitest';
import { checkInvariants, countsOf, type InvariantInput } from '../src/workflow/invariants.js';
import type { ReservationRecord } from '../src/workflow/inventory.js';
import type { OrderRecord } from '../src/workflow/orders.js';
import type { LedgerEntry } from '../src/workflow/payments.js';
import type { SystemSnapshot } from '../src/workflow/services.js';

const charge = (orderId: string, amountCents = 100): LedgerEntry => ({ orderId, customerId: 'c', kind: 'charge', amountCents });
const refund = (orderId: string, amountCents = 100): LedgerEntry => ({ orderId, customerId: 'c', kind: 'refund', amountCents });
const held = (orderId: string): ReservationRecord => ({ orderId, items: [{ sku: 'a', qty: 1 }], state: 'held' });
const confirmed = (orderId: string): OrderRecord => ({ orderId, status: 'CONFIRMED' });
const cancelled = (orderId: string): OrderRecord => ({ orderId, status: 'CANCELLED', reason: 'downstream_error' });

/** A constructed system: `ids` placed (and accepted) in that order; stock stays conserved unless a test says otherwise. */
function input(ids: readonly string[], state: { orders: OrderRecord[]; ledger: LedgerEntry[]; reservations: ReservationRecord[]; accepted?: readonly string[] }): InvariantInput {
  const holds = state.reservations.filter((r) => r.state === 'held').length;
  const snapshot: SystemSnapshot = {
    orders: { orders: state.orders, duplicates: 0 },
    inventory: { initial: { a: 100 }, available: { a: 100 - holds }, reservations: state.reservations, duplicates: 0 },
    payments: { ledger: state.ledger, declined: [], duplicates: 0 },
    notifications: { sent: 0, duplicates: 0 },
  };
  return { placed: ids.map((orderId) => ({ orderId, amountCents: 100 })), accepted: new Set(state.accepted ?? ids), snapshot };
}

describe('invariant checker: offenders', () => {
  it('names no offenders when nothing broke', () => {
    const report = checkInvariants(input(['o1'], { orders: [confirmed('o1')], ledger: [charge('o1')], reservations: [held('o1')] }));
    expect(report.ok).toBe(true);
    expect(report).not.toHaveProperty('offenders');
  });

  it('names the cancelled order whose charge was never refunded as a leaked charge', () => {
    const report = checkInvariants(
      input(['o1', 'o2', 'o3'], {
        orders: [confirmed('o1'), cancelled('o2'), cancelled('o3')],
        ledger: [charge('o1'), charge('o2'), charge('o3'), refund('o3')],
        reservations: [held('o1')],
      }),
    );
    expect(report.leakedCharges).toBe(1);
    expect(report.offenders).toEqual({ leakedCharges: ['o2'] });
  });

  it('names a confirmed order charged twice as double charged', () => {
    const report = checkInvariants(
      input(['o1', 'o2'], { orders: [confirmed('o1'), confirmed('o2')], ledger: [charge('o1'), charge('o2'), charge('o2')], reservations: [held('o1'), held('o2')] }),
    );
    expect(report.offenders).toEqual({ doubleCharged: ['o2'] });
  });

  it('names an order left non-terminal as stuck', () => {
    const report = checkInvariants(
      input(['o1', 'o2'], { orders: [{ orderId: 'o1', status: 'CHARGED' }, confirmed('o2')], ledger: [charge('o1'), charge('o2')], reservations: [held('o2')] }),
    );
    expect(report.offenders).toEqual({ stuck: ['o1'] });
  });

  it('names an accepted order the system has no record of as lost, and not one that was never accepted', () => {
    const report = checkInvariants(input(['o1', 'o2', 'o3'], { orders: [confirmed('o1')], ledger: [charge('o1')], reservations: [held('o1')], accepted: ['o1', 'o3'] }));
    expect(report.lost).toBe(1);
    expect(report.offenders).toEqual({ lost: ['o3'] });
  });

  it('names the cancelled order that still holds stock as a leaked reservation', () => {
    const report = checkInvariants(input(['o1', 'o2'], { orders: [cancelled('o1'), cancelled('o2')], ledger: [], reservations: [held('o2')] }));
    expect(report.offenders).toEqual({ leakedReservations: ['o2'] });
  });

  it('names at most 3 offenders per invariant, the first in placement order, and keeps the full count', () => {
    const ids = ['o5', 'o4', 'o3', 'o2', 'o1'];
    // The snapshot lists the orders in another order than they were placed.
    const report = checkInvariants(input(ids, { orders: [...ids].reverse().map(cancelled), ledger: ids.map((id) => charge(id)), reservations: [] }));
    expect(report.leakedCharges).toBe(5);
    expect(report.offenders).toEqual({ leakedCharges: ['o5', 'o4', 'o3'] });
  });

  it('names SKUs for stock that was not conserved, and each broken invariant apart', () => {
    const base = input(['o1', 'o2'], { orders: [cancelled('o1'), { orderId: 'o2', status: 'PENDING' }], ledger: [charge('o1')], reservations: [] });
    const snapshot = { ...base.snapshot, inventory: { ...base.snapshot.inventory, available: { a: 99 } } };
    const report = checkInvariants({ ...base, snapshot });
    expect(report.offenders).toEqual({ leakedCharges: ['o1'], stuck: ['o2'], stockNotConserved: ['a'] });
  });

  it('keeps the counts alone for results.json (countsOf)', () => {
    const report = checkInvariants(input(['o1'], { orders: [cancelled('o1')], ledger: [charge('o1')], reservations: [] }));
    expect(countsOf(report)).not.toHaveProperty('offenders');
    expect(countsOf(report).leakedCharges).toBe(1);
  });
});
