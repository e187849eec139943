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

/** The invariants that can break (every count of the report but `duplicatesAbsorbed`). */
export type InvariantName = Exclude<keyof InvariantReport, 'ok' | 'duplicatesAbsorbed'>;

// A Record, so that a count added to InvariantReport fails to compile until it is listed here (in the report's order).
const INVARIANT_KEYS: Readonly<Record<InvariantName, true>> = {
  stuck: true,
  lost: true,
  doubleCharged: true,
  leakedCharges: true,
  missingEffects: true,
  oversold: true,
  stockNotConserved: true,
  leakedReservations: true,
  unexpectedEffects: true,
};
const INVARIANT_NAMES = Object.keys(INVARIANT_KEYS) as InvariantName[];

/**
 * Per broken invariant, its first offenders (at most `MAX_OFFENDERS`): order ids in
 * placement order (for an effect of an order never placed: in snapshot order), SKUs for
 * `oversold` and `stockNotConserved`.
 */
export type Offenders = Readonly<Partial<Record<InvariantName, readonly string[]>>>;

/** The checker's answer: the report and, only when something broke, who broke it. */
export type CheckedInvariants = InvariantReport & { readonly offenders?: Offenders };

/** How many offenders the report names per broken invariant. */
export const MAX_OFFENDERS = 3;

/** Counts an invariant's breaches and keeps its first offenders. */
class Tally {
  readonly counts = new Map<InvariantName, number>();
  readonly first = new Map<InvariantName, string[]>();

  add(name: InvariantName, id: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const ids = this.first.get(name) ?? [];
    if (ids.length === 0) this.first.set(name, ids);
    if (ids.length < MAX_OFFENDERS && !ids.includes(id)) ids.push(id);
  }

  count(name: InvariantName): number {
    return this.counts.get(name) ?? 0;
  }
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
export function checkInvariants({ placed, accepted, snapshot }: InvariantInput): CheckedInvariants {
  // One entry per placed order (a hundred thousand of them in a default run): its state and its effects.
  const byOrder = new Map<string, Effects>();
  for (const order of placed) byOrder.set(order.orderId, { state: undefined, charges: 0, cents: 0, holds: 0 });
  for (const o of snapshot.orders.orders) {
    const e = byOrder.get(o.orderId);
    if (e) e.state = o;
  }

  const tally = new Tally();
  const heldQty = collectEffects(snapshot, byOrder, tally);
  judgeOrders(placed, accepted, byOrder, tally);
  judgeStock(snapshot, heldQty, tally);

  const duplicatesAbsorbed =
    snapshot.orders.duplicates +
    snapshot.inventory.duplicates +
    snapshot.payments.duplicates +
    snapshot.notifications.duplicates;
  const counts = Object.fromEntries(INVARIANT_NAMES.map((n) => [n, tally.count(n)])) as Record<InvariantName, number>;
  const ok = INVARIANT_NAMES.every((n) => counts[n] === 0);
  const report: InvariantReport = { ok, ...counts, duplicatesAbsorbed };
  return ok ? report : { ...report, offenders: Object.fromEntries(tally.first) };
}

/** Fold reservations and the ledger into each order's effects; an effect for an order never placed is unexpected. Returns the held quantity per SKU. */
function collectEffects(snapshot: SystemSnapshot, byOrder: Map<string, Effects>, tally: Tally): Map<string, number> {
  const heldQty = new Map<string, number>();
  for (const r of snapshot.inventory.reservations) {
    const e = byOrder.get(r.orderId);
    if (!e) tally.add('unexpectedEffects', r.orderId);
    if (r.state !== 'held') continue;
    if (e) e.holds++;
    for (const item of r.items) heldQty.set(item.sku, (heldQty.get(item.sku) ?? 0) + item.qty);
  }
  for (const entry of snapshot.payments.ledger) {
    const e = byOrder.get(entry.orderId);
    if (!e) {
      tally.add('unexpectedEffects', entry.orderId);
      continue;
    }
    const sign = entry.kind === 'charge' ? 1 : -1;
    e.charges += sign;
    e.cents += sign * entry.amountCents;
  }
  return heldQty;
}

/** Every placed order, in placement order: terminal, known, and with exactly the effects its state calls for. */
function judgeOrders(placed: InvariantInput['placed'], accepted: ReadonlySet<string>, byOrder: Map<string, Effects>, tally: Tally): void {
  for (const order of placed) {
    const id = order.orderId;
    const { state, charges, cents, holds } = byOrder.get(id) as Effects;
    if (charges > 1 || cents > order.amountCents) tally.add('doubleCharged', id);
    if (!state) {
      if (accepted.has(id)) tally.add('lost', id);
      // Never recorded (the client's request failed before the system saw it): it must have no effect.
      if (charges > 0) tally.add('leakedCharges', id);
      if (holds > 0) tally.add('leakedReservations', id);
      continue;
    }
    if (!isTerminal(state.status)) {
      tally.add('stuck', id); // its effects are still in flight: not judged
      continue;
    }
    if (state.status === 'CONFIRMED') {
      if (charges < 1 || holds < 1) tally.add('missingEffects', id);
      if (holds > 1) tally.add('leakedReservations', id);
    } else {
      if (charges > 0) tally.add('leakedCharges', id);
      if (holds > 0) tally.add('leakedReservations', id);
    }
  }
}

/** Per SKU: never below zero, and initial = available + held. */
function judgeStock(snapshot: SystemSnapshot, heldQty: ReadonlyMap<string, number>, tally: Tally): void {
  const { initial, available } = snapshot.inventory;
  for (const sku of new Set([...Object.keys(initial), ...Object.keys(available)])) {
    const now = available[sku] ?? 0;
    if (now < 0) tally.add('oversold', sku);
    if ((initial[sku] ?? 0) !== now + (heldQty.get(sku) ?? 0)) tally.add('stockNotConserved', sku);
  }
}

/** The counts alone, as results.json keeps them (the offenders travel apart, with their journeys). */
export function countsOf(checked: CheckedInvariants): InvariantReport {
  const { offenders: _offenders, ...report } = checked;
  return report;
}
