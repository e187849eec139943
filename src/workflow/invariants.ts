import { isPackedSnapshot, packSnapshot, type PackedSnapshot } from './packed-snapshot.js';
import type { SystemSnapshot } from './services.js';
import { isTerminal, type OrderRequest, type OrderStatus } from './types.js';

/** What the checker needs: the orders the client placed, what it was told, and the system's state. */
export interface InvariantInput {
  /** Every order the client attempted to place (warm-up included). */
  /** Read twice: an array, or an iterable that starts afresh at each reading (a one-shot iterator is read into an array first). */
  readonly placed: Iterable<Pick<OrderRequest, 'orderId' | 'amountCents'>>;
  /**
   * Orders the system told the client it had taken: a terminal outcome, or an accept for
   * asynchronous patterns. Such an order that the system has no record of is lost.
   */
  readonly accepted: Pick<ReadonlySet<string>, 'has'>;
  readonly snapshot: SystemSnapshot;
}

/** The same, with the system's state packed in columns (a large run's: see packed-snapshot.ts). */
export interface PackedInvariantInput extends Omit<InvariantInput, 'snapshot'> {
  readonly snapshot: PackedSnapshot;
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

/**
 * What the snapshot holds of each placed order, by slot (each distinct placed id once): a
 * hundred thousand orders and more in a capacity run, so columns rather than an object each.
 */
class Effects {
  /** The index of the order's record in the snapshot's orders (the last, if several); -1: none. */
  readonly state: Int32Array;
  /** Net charges (charges minus refunds) and net cents. */
  readonly charges: Int32Array;
  readonly cents: Float64Array;
  /** Reservations held. */
  readonly holds: Int32Array;

  constructor(slots: number) {
    this.state = new Int32Array(slots).fill(-1);
    this.charges = new Int32Array(slots);
    this.cents = new Float64Array(slots);
    this.holds = new Int32Array(slots);
  }
}

/** Where the checker finds a placed order: its slot by id, and by index of the snapshot's strings (-1: not a placed order). */
interface Slots {
  readonly ofId: ReadonlyMap<string, number>;
  readonly ofString: Int32Array;
}

/** Check the invariants over a drained system. Pure: same input, same report. */
export function checkInvariants(input: InvariantInput | PackedInvariantInput): CheckedInvariants {
  const { accepted, snapshot } = input;
  const packed = isPackedSnapshot(snapshot) ? snapshot : packSnapshot(snapshot);
  const placed = readable(input.placed);
  const slots = slotsOf(placed, packed.strings);
  const effects = new Effects(slots.ofId.size);
  recordStates(packed.orders, slots, effects);

  const tally = new Tally();
  const heldQty = collectReservations(packed, slots, effects, tally);
  collectLedger(packed, slots, effects, tally);
  judgeOrders(placed, accepted, packed, slots, effects, tally);
  judgeStock(packed.inventory, heldQty, tally);

  const duplicatesAbsorbed =
    packed.orders.duplicates +
    packed.inventory.duplicates +
    packed.payments.duplicates +
    packed.notifications.duplicates;
  const counts = Object.fromEntries(INVARIANT_NAMES.map((n) => [n, tally.count(n)])) as Record<InvariantName, number>;
  const ok = INVARIANT_NAMES.every((n) => counts[n] === 0);
  const report: InvariantReport = { ok, ...counts, duplicatesAbsorbed };
  return ok ? report : { ...report, offenders: Object.fromEntries(tally.first) };
}

/** `placed` as it can be read twice: a one-shot iterator (its iterator is itself) read into an array. */
function readable(placed: InvariantInput['placed']): InvariantInput['placed'] {
  return (placed[Symbol.iterator]() as unknown) === placed ? [...placed] : placed;
}

function slotsOf(placed: InvariantInput['placed'], strings: readonly string[]): Slots {
  const ofId = new Map<string, number>();
  for (const order of placed) if (!ofId.has(order.orderId)) ofId.set(order.orderId, ofId.size);
  const ofString = new Int32Array(strings.length);
  for (let i = 0; i < strings.length; i++) ofString[i] = ofId.get(strings[i] as string) ?? -1;
  return { ofId, ofString };
}

/** Each placed order's record in the snapshot (the last one, where an id has several). */
function recordStates(orders: PackedSnapshot['orders'], slots: Slots, effects: Effects): void {
  for (let i = 0; i < orders.orderId.length; i++) {
    const slot = slots.ofString[orders.orderId[i] ?? -1] ?? -1;
    if (slot >= 0) effects.state[slot] = i;
  }
}

/** Fold the held reservations into each order's effects; one for an order never placed is unexpected. Returns the held quantity per SKU. */
function collectReservations({ inventory, strings }: PackedSnapshot, slots: Slots, effects: Effects, tally: Tally): Map<string, number> {
  const heldQty = new Map<string, number>();
  let item = 0;
  for (let i = 0; i < inventory.orderId.length; i++) {
    const id = inventory.orderId[i] ?? -1;
    const from = item;
    item += inventory.itemCount[i] ?? 0;
    const slot = slots.ofString[id] ?? -1;
    if (slot < 0) tally.add('unexpectedEffects', strings[id] ?? '');
    if (strings[inventory.state[i] ?? -1] !== 'held') continue;
    if (slot >= 0) effects.holds[slot] = (effects.holds[slot] ?? 0) + 1;
    for (let j = from; j < item; j++) {
      const sku = strings[inventory.itemSku[j] ?? -1] ?? '';
      heldQty.set(sku, (heldQty.get(sku) ?? 0) + (inventory.itemQty[j] as number));
    }
  }
  return heldQty;
}

/** Fold the ledger into each order's net charges and cents; an entry for an order never placed is unexpected. */
function collectLedger({ payments, strings }: PackedSnapshot, slots: Slots, effects: Effects, tally: Tally): void {
  for (let i = 0; i < payments.orderId.length; i++) {
    const id = payments.orderId[i] ?? -1;
    const slot = slots.ofString[id] ?? -1;
    if (slot < 0) {
      tally.add('unexpectedEffects', strings[id] ?? '');
      continue;
    }
    const sign = strings[payments.kind[i] ?? -1] === 'charge' ? 1 : -1;
    effects.charges[slot] = (effects.charges[slot] ?? 0) + sign;
    effects.cents[slot] = (effects.cents[slot] ?? 0) + sign * (payments.amountCents[i] as number);
  }
}

/** Every placed order, in placement order: terminal, known, and with exactly the effects its state calls for. */
function judgeOrders(placed: InvariantInput['placed'], accepted: InvariantInput['accepted'], packed: PackedSnapshot, slots: Slots, effects: Effects, tally: Tally): void {
  for (const order of placed) {
    const id = order.orderId;
    const slot = slots.ofId.get(id) as number;
    const charges = effects.charges[slot] ?? 0;
    const holds = effects.holds[slot] ?? 0;
    const record = effects.state[slot] ?? -1;
    if (charges > 1 || (effects.cents[slot] ?? 0) > order.amountCents) tally.add('doubleCharged', id);
    if (record < 0) {
      if (accepted.has(id)) tally.add('lost', id);
      // Never recorded (the client's request failed before the system saw it): it must have no effect.
      if (charges > 0) tally.add('leakedCharges', id);
      if (holds > 0) tally.add('leakedReservations', id);
      continue;
    }
    const status = packed.strings[packed.orders.status[record] ?? -1] as OrderStatus;
    if (!isTerminal(status)) {
      tally.add('stuck', id); // its effects are still in flight: not judged
      continue;
    }
    if (status === 'CONFIRMED') {
      if (charges < 1 || holds < 1) tally.add('missingEffects', id);
      if (holds > 1) tally.add('leakedReservations', id);
    } else {
      if (charges > 0) tally.add('leakedCharges', id);
      if (holds > 0) tally.add('leakedReservations', id);
    }
  }
}

/** Per SKU: never below zero, and initial = available + held. */
function judgeStock(inventory: PackedSnapshot['inventory'], heldQty: ReadonlyMap<string, number>, tally: Tally): void {
  const { initial, available } = inventory;
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
