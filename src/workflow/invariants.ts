import type { SystemSnapshot } from './services.js';
import type { OrderRecord } from './orders.js';
import { isTerminal, type OrderRequest } from './types.js';

/** What the checker needs: the orders the client placed, what it was told, and the system's state. */
export interface InvariantInput {
  /** Every order the client attempted to place (warm-up included). */
  readonly placed: readonly Pick<OrderRequest, 'orderId' | 'amountCents'>[];
  /**
   * Orders the system told the client it had taken: a terminal outcome, or an accept for
   * asynchronous patterns. Such an order that the system has no record of is lost.
   */
  readonly accepted: ReadonlySet<string>;
  readonly snapshot: SystemSnapshot;
}

/**
 * The verdict of DESIGN.md §6 as counts. Everything but `duplicatesAbsorbed` must be 0
 * for `ok`; `duplicatesAbsorbed` counts redeliveries and retries that idempotency absorbed.
 */
export interface InvariantReport {
  readonly ok: boolean;
  /** Orders the system knows of that are not terminal after draining. */
  readonly stuck: number;
  /** Orders the client was told were taken that the system has no record of. */
  readonly lost: number;
  /** Orders with more than one net charge, or charged more than their amount. */
  readonly doubleCharged: number;
  /** Cancelled (or never recorded) orders whose charge was not refunded. */
  readonly leakedCharges: number;
  /** Confirmed orders lacking their charge or their reservation. */
  readonly missingEffects: number;
  /** SKUs whose available stock went below zero. */
  readonly oversold: number;
  /** SKUs where initial ≠ available + held reservations (stock created or destroyed). */
  readonly stockNotConserved: number;
  /** Reservations still held for orders that are not confirmed, or more than one for one order. */
  readonly leakedReservations: number;
  /** Reservations or ledger entries for orders that were never placed. */
  readonly unexpectedEffects: number;
  readonly duplicatesAbsorbed: number;
}

interface Effects {
  state: OrderRecord | undefined;
  /** Net charges (charges minus refunds) and net cents. */
  charges: number;
  cents: number;
  /** Reservations held. */
  holds: number;
}

/** Check the invariants over a drained system. Pure: same input, same report. */
export function checkInvariants({ placed, accepted, snapshot }: InvariantInput): InvariantReport {
  // One entry per placed order (a hundred thousand of them in a default run): its state and its effects.
  const byOrder = new Map<string, Effects>();
  for (const order of placed) byOrder.set(order.orderId, { state: undefined, charges: 0, cents: 0, holds: 0 });
  for (const o of snapshot.orders.orders) {
    const e = byOrder.get(o.orderId);
    if (e) e.state = o;
  }

  let unexpectedEffects = 0;
  const heldQty = new Map<string, number>();
  for (const r of snapshot.inventory.reservations) {
    const e = byOrder.get(r.orderId);
    if (!e) unexpectedEffects++;
    if (r.state !== 'held') continue;
    if (e) e.holds++;
    for (const item of r.items) heldQty.set(item.sku, (heldQty.get(item.sku) ?? 0) + item.qty);
  }
  for (const entry of snapshot.payments.ledger) {
    const e = byOrder.get(entry.orderId);
    if (!e) {
      unexpectedEffects++;
      continue;
    }
    const sign = entry.kind === 'charge' ? 1 : -1;
    e.charges += sign;
    e.cents += sign * entry.amountCents;
  }

  let stuck = 0;
  let lost = 0;
  let doubleCharged = 0;
  let leakedCharges = 0;
  let missingEffects = 0;
  let leakedReservations = 0;
  for (const order of placed) {
    const { state, charges, cents, holds } = byOrder.get(order.orderId) as Effects;
    if (charges > 1 || cents > order.amountCents) doubleCharged++;
    if (!state) {
      if (accepted.has(order.orderId)) lost++;
      // Never recorded (the client's request failed before the system saw it): it must have no effect.
      if (charges > 0) leakedCharges++;
      if (holds > 0) leakedReservations++;
      continue;
    }
    if (!isTerminal(state.status)) {
      stuck++; // its effects are still in flight: not judged
      continue;
    }
    if (state.status === 'CONFIRMED') {
      if (charges < 1 || holds < 1) missingEffects++;
      if (holds > 1) leakedReservations++;
    } else {
      if (charges > 0) leakedCharges++;
      if (holds > 0) leakedReservations++;
    }
  }

  let oversold = 0;
  let stockNotConserved = 0;
  const { initial, available } = snapshot.inventory;
  for (const sku of new Set([...Object.keys(initial), ...Object.keys(available)])) {
    const now = available[sku] ?? 0;
    if (now < 0) oversold++;
    if ((initial[sku] ?? 0) !== now + (heldQty.get(sku) ?? 0)) stockNotConserved++;
  }

  const duplicatesAbsorbed =
    snapshot.orders.duplicates +
    snapshot.inventory.duplicates +
    snapshot.payments.duplicates +
    snapshot.notifications.duplicates;
  const broken =
    stuck + lost + doubleCharged + leakedCharges + missingEffects + oversold + stockNotConserved + leakedReservations + unexpectedEffects;
  return {
    ok: broken === 0,
    stuck,
    lost,
    doubleCharged,
    leakedCharges,
    missingEffects,
    oversold,
    stockNotConserved,
    leakedReservations,
    unexpectedEffects,
    duplicatesAbsorbed,
  };
}
