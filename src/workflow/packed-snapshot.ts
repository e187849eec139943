/**
 * A system snapshot in columns: what a run's state crosses a thread in when it is large
 * (direct's capacity run: 100–300k orders). As objects, every record is an object with
 * its strings, made on the system's thread, as JSON text on both threads, and again as
 * objects when the main thread parses it (~0.9 KB per order in all, live); in columns
 * every string is kept once, in `strings`, and each record is a few numbers in typed
 * arrays. Lossless: `unpackSnapshot(packSnapshot(s))` has every field of `s`. Plain data
 * with typed arrays: it crosses a thread as a structured clone (`byClone`,
 * placement/clone.ts), not as JSON, which would spell the arrays out index by index.
 */
import type { InventorySnapshot, ReservationRecord } from './inventory.js';
import type { OrderItem } from './types.js';
import type { OrderSnapshotRecord, OrdersSnapshot, OrderTransition } from './orders.js';
import type { LedgerEntry, PaymentsSnapshot } from './payments.js';
import type { NotificationRecord, NotificationsSnapshot } from './notifications.js';
import type { SystemSnapshot } from './services.js';

/** A column of optional numbers: `present[i]` 1 where record i has one; absent when no record has one. */
type OptionalColumn = { readonly values: Float64Array; readonly present: Uint8Array } | undefined;

export interface PackedOrders {
  /** Per order: its id, status and cancel reason (-1: none) as indexes into `strings`. */
  readonly orderId: Int32Array;
  readonly status: Int32Array;
  readonly reason: Int32Array;
  /** Per order, how many transitions its history has (-1: no history); the transitions, all orders' in a row. */
  readonly historyLength: Int32Array;
  readonly historyStatus: Int32Array;
  readonly historyAt: Float64Array;
  readonly duplicates: number;
}

export interface PackedInventory {
  readonly initial: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
  /** Per reservation: its order and state (indexes into `strings`), how many items; the items, all reservations' in a row. */
  readonly orderId: Int32Array;
  readonly state: Int32Array;
  readonly itemCount: Int32Array;
  readonly itemSku: Int32Array;
  readonly itemQty: Float64Array;
  readonly at: OptionalColumn;
  readonly releasedAt: OptionalColumn;
  readonly duplicates: number;
}

export interface PackedPayments {
  /** Per ledger entry: order, customer and kind (indexes into `strings`), amount and time. */
  readonly orderId: Int32Array;
  readonly customerId: Int32Array;
  readonly kind: Int32Array;
  readonly amountCents: Float64Array;
  readonly at: OptionalColumn;
  readonly declined: Int32Array;
  readonly declinedAt?: readonly number[];
  readonly duplicates: number;
}

export interface PackedNotifications {
  readonly sent: number;
  readonly duplicates: number;
  readonly log?: { readonly orderId: Int32Array; readonly status: Int32Array; readonly at: Float64Array };
}

export interface PackedSnapshot {
  readonly format: 'packed-snapshot/1';
  /** Every distinct string the records hold (ids, statuses, kinds, SKUs), once; the columns index it. */
  readonly strings: readonly string[];
  readonly orders: PackedOrders;
  readonly inventory: PackedInventory;
  readonly payments: PackedPayments;
  readonly notifications: PackedNotifications;
}

export function isPackedSnapshot(s: SystemSnapshot | PackedSnapshot): s is PackedSnapshot {
  return (s as Partial<PackedSnapshot>).format === 'packed-snapshot/1';
}

/** Each distinct string once, by its first appearance. */
class StringTable {
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();

  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.index.set(s, i);
    }
    return i;
  }

  /** -1 for no string. */
  optional(s: string | undefined): number {
    return s === undefined ? -1 : this.of(s);
  }
}

type NumberArray = Int32Array | Float64Array | Uint8Array;

/**
 * A column of numbers in a typed array that doubles when full. Where the count is known
 * ahead, `reserve` sizes it once: written in place, no copy left for the collector.
 */
class Column<A extends NumberArray> {
  private values: A;
  private size = 0;

  constructor(private readonly make: (n: number) => A) {
    this.values = make(0);
  }

  reserve(n: number): void {
    if (this.size + n > this.values.length) this.resize(this.size + n);
  }

  push(v: number): void {
    if (this.size === this.values.length) this.resize(Math.max(64, this.values.length * 2));
    this.values[this.size++] = v;
  }

  build(): A {
    return this.size === this.values.length ? this.values : (this.values.slice(0, this.size) as A);
  }

  private resize(n: number): void {
    const grown = this.make(n);
    grown.set(this.values);
    this.values = grown;
  }
}

const ints = () => new Column((n) => new Int32Array(n));
const doubles = () => new Column((n) => new Float64Array(n));

/** An optional number per record, as a column. */
class OptionalBuilder {
  private readonly values = doubles();
  private readonly present = new Column((n) => new Uint8Array(n));
  private any = false;

  reserve(n: number): void {
    this.values.reserve(n);
    this.present.reserve(n);
  }

  push(v: number | undefined): void {
    this.values.push(v ?? 0);
    this.present.push(v === undefined ? 0 : 1);
    if (v !== undefined) this.any = true;
  }

  build(): OptionalColumn {
    return this.any ? { values: this.values.build(), present: this.present.build() } : undefined;
  }
}

/** The scalars of each service's part, set once each. */
interface Totals {
  orders: number;
  inventory: { initial: Readonly<Record<string, number>>; available: Readonly<Record<string, number>>; duplicates: number };
  payments: { duplicates: number; declinedAt?: readonly number[] };
  notifications: { sent: number; duplicates: number; log: boolean };
}

/**
 * Builds a packed snapshot record by record — from a snapshot's objects (`packSnapshot`), or
 * from the services' own state (`packServices`), which then makes no object per record.
 * Orders first: their ids are most of the strings. Each part's `reserve…` (optional) says
 * how many records are coming, so that its columns are sized once.
 */
export class SnapshotPacker {
  private readonly table = new StringTable();
  private readonly o = { orderId: ints(), status: ints(), reason: ints(), historyLength: ints(), historyStatus: ints(), historyAt: doubles() };
  private readonly r = { orderId: ints(), state: ints(), itemCount: ints(), itemSku: ints(), itemQty: doubles(), at: new OptionalBuilder(), releasedAt: new OptionalBuilder() };
  private readonly l = { orderId: ints(), customerId: ints(), kind: ints(), amountCents: doubles(), at: new OptionalBuilder() };
  private readonly declinedIds = ints();
  private readonly log = { orderId: ints(), status: ints(), at: doubles() };
  private readonly totals: Totals = {
    orders: 0,
    inventory: { initial: {}, available: {}, duplicates: 0 },
    payments: { duplicates: 0 },
    notifications: { sent: 0, duplicates: 0, log: false },
  };

  reserveOrders(orders: number, transitions: number): void {
    for (const c of [this.o.orderId, this.o.status, this.o.reason, this.o.historyLength]) c.reserve(orders);
    this.o.historyStatus.reserve(transitions);
    this.o.historyAt.reserve(transitions);
  }

  order(orderId: string, status: string, reason: string | undefined, history: readonly OrderTransition[] | undefined): void {
    this.o.orderId.push(this.table.of(orderId));
    this.o.status.push(this.table.of(status));
    this.o.reason.push(this.table.optional(reason));
    this.o.historyLength.push(history ? history.length : -1);
    for (const h of history ?? []) {
      this.o.historyStatus.push(this.table.of(h.status));
      this.o.historyAt.push(h.at);
    }
  }

  orders(duplicates: number): void {
    this.totals.orders = duplicates;
  }

  reserveReservations(reservations: number, items: number): void {
    for (const c of [this.r.orderId, this.r.state, this.r.itemCount, this.r.at, this.r.releasedAt]) c.reserve(reservations);
    this.r.itemSku.reserve(items);
    this.r.itemQty.reserve(items);
  }

  reservation(orderId: string, items: readonly OrderItem[], state: string, at: number | undefined, releasedAt: number | undefined): void {
    this.r.orderId.push(this.table.of(orderId));
    this.r.state.push(this.table.of(state));
    this.r.itemCount.push(items.length);
    for (const item of items) {
      this.r.itemSku.push(this.table.of(item.sku));
      this.r.itemQty.push(item.qty);
    }
    this.r.at.push(at);
    this.r.releasedAt.push(releasedAt);
  }

  inventory(totals: Totals['inventory']): void {
    this.totals.inventory = totals;
  }

  reserveLedger(entries: number): void {
    for (const c of [this.l.orderId, this.l.customerId, this.l.kind, this.l.amountCents, this.l.at]) c.reserve(entries);
  }

  /** `at`: the entry's time when the service keeps it apart from the entry (default: the entry's own). */
  ledgerEntry(e: LedgerEntry, at: number | undefined = e.at): void {
    this.l.orderId.push(this.table.of(e.orderId));
    this.l.customerId.push(this.table.of(e.customerId));
    this.l.kind.push(this.table.of(e.kind));
    this.l.amountCents.push(e.amountCents);
    this.l.at.push(at);
  }

  declined(orderId: string): void {
    this.declinedIds.push(this.table.of(orderId));
  }

  /** `declinedAt`: when each `declined` order was declined, in the same order, where recorded. */
  payments(totals: Totals['payments']): void {
    this.totals.payments = totals;
  }

  notification(orderId: string, status: string, at: number): void {
    this.log.orderId.push(this.table.of(orderId));
    this.log.status.push(this.table.of(status));
    this.log.at.push(at);
  }

  /** `log`: whether the notifications' log is kept (the `notification` calls, possibly none). */
  notifications(totals: Totals['notifications']): void {
    this.totals.notifications = totals;
  }

  build(): PackedSnapshot {
    const { o, r, l, log, totals } = this;
    const { declinedAt } = totals.payments;
    return {
      format: 'packed-snapshot/1',
      strings: this.table.strings,
      orders: { orderId: o.orderId.build(), status: o.status.build(), reason: o.reason.build(), historyLength: o.historyLength.build(), historyStatus: o.historyStatus.build(), historyAt: o.historyAt.build(), duplicates: totals.orders },
      inventory: {
        ...totals.inventory,
        orderId: r.orderId.build(),
        state: r.state.build(),
        itemCount: r.itemCount.build(),
        itemSku: r.itemSku.build(),
        itemQty: r.itemQty.build(),
        at: r.at.build(),
        releasedAt: r.releasedAt.build(),
      },
      payments: {
        orderId: l.orderId.build(),
        customerId: l.customerId.build(),
        kind: l.kind.build(),
        amountCents: l.amountCents.build(),
        at: l.at.build(),
        declined: this.declinedIds.build(),
        ...(declinedAt ? { declinedAt } : {}),
        duplicates: totals.payments.duplicates,
      },
      notifications: {
        sent: totals.notifications.sent,
        duplicates: totals.notifications.duplicates,
        ...(totals.notifications.log ? { log: { orderId: log.orderId.build(), status: log.status.build(), at: log.at.build() } } : {}),
      },
    };
  }
}

/** The buffers of a packed snapshot's columns, each once: each column owns its buffer, so they can be moved to another thread. */
export function buffersOf(packed: PackedSnapshot): ArrayBuffer[] {
  const { orders: o, inventory: r, payments: l, notifications: n } = packed;
  const optional = (c: OptionalColumn) => (c ? [c.values, c.present] : []);
  const columns = [
    ...[o.orderId, o.status, o.reason, o.historyLength, o.historyStatus, o.historyAt],
    ...[r.orderId, r.state, r.itemCount, r.itemSku, r.itemQty, ...optional(r.at), ...optional(r.releasedAt)],
    ...[l.orderId, l.customerId, l.kind, l.amountCents, ...optional(l.at), l.declined],
    ...(n.log ? [n.log.orderId, n.log.status, n.log.at] : []),
  ];
  return [...new Set(columns.map((c) => c.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/** A snapshot's objects, packed. */
export function packSnapshot(snapshot: SystemSnapshot): PackedSnapshot {
  const p = new SnapshotPacker();
  const { orders, inventory, payments, notifications } = snapshot;
  p.reserveOrders(orders.orders.length, orders.orders.reduce((n, o) => n + (o.history?.length ?? 0), 0));
  for (const o of orders.orders) p.order(o.orderId, o.status, o.reason, o.history);
  p.orders(orders.duplicates);
  p.reserveReservations(inventory.reservations.length, inventory.reservations.reduce((n, r) => n + r.items.length, 0));
  for (const r of inventory.reservations) p.reservation(r.orderId, r.items, r.state, r.at, r.releasedAt);
  p.inventory({ initial: inventory.initial, available: inventory.available, duplicates: inventory.duplicates });
  p.reserveLedger(payments.ledger.length);
  for (const e of payments.ledger) p.ledgerEntry(e);
  for (const id of payments.declined) p.declined(id);
  p.payments({ duplicates: payments.duplicates, ...(payments.declinedAt ? { declinedAt: payments.declinedAt } : {}) });
  for (const n of notifications.log ?? []) p.notification(n.orderId, n.status, n.at);
  p.notifications({ sent: notifications.sent, duplicates: notifications.duplicates, log: notifications.log !== undefined });
  return p.build();
}

/**
 * The snapshot as objects again, with every field; with `only`, just the records of those
 * orders (the journeys of a run's offenders, without making objects of all its orders).
 */
export function unpackSnapshot(packed: PackedSnapshot, only?: ReadonlySet<string>): SystemSnapshot {
  const str = (i: number | undefined): string => packed.strings[i ?? -1] ?? '';
  const wanted = (i: number | undefined): boolean => only === undefined || only.has(str(i));
  return {
    orders: unpackOrders(packed.orders, str, wanted),
    inventory: unpackInventory(packed.inventory, str, wanted),
    payments: unpackPayments(packed.payments, str, wanted, only === undefined),
    notifications: unpackNotifications(packed.notifications, str, wanted),
  };
}

type Str = (i: number | undefined) => string;
type Wanted = (i: number | undefined) => boolean;

/** The value at `i` of an optional column, as an optional field. */
function fieldOf<K extends string>(name: K, column: OptionalColumn, i: number): Partial<Record<K, number>> {
  return column?.present[i] ? ({ [name]: column.values[i] } as Partial<Record<K, number>>) : {};
}

function unpackOrders(p: PackedOrders, str: Str, wanted: Wanted): OrdersSnapshot {
  const orders: OrderSnapshotRecord[] = [];
  let h = 0;
  p.orderId.forEach((id, i) => {
    const length = p.historyLength[i] ?? -1;
    const from = h;
    h += Math.max(0, length);
    if (!wanted(id)) return;
    const reason = p.reason[i] ?? -1;
    const history = length < 0 ? undefined : Array.from(p.historyAt.subarray(from, h), (at, k) => ({ status: str(p.historyStatus[from + k]) as OrderTransition['status'], at }));
    orders.push({
      orderId: str(id),
      status: str(p.status[i]) as OrderSnapshotRecord['status'],
      ...(reason < 0 ? {} : { reason: str(reason) as NonNullable<OrderSnapshotRecord['reason']> }),
      ...(history ? { history } : {}),
    });
  });
  return { orders, duplicates: p.duplicates };
}

function unpackInventory(p: PackedInventory, str: Str, wanted: Wanted): InventorySnapshot {
  const reservations: ReservationRecord[] = [];
  let k = 0;
  p.orderId.forEach((id, i) => {
    const from = k;
    k += p.itemCount[i] ?? 0;
    if (!wanted(id)) return;
    const items = Array.from(p.itemSku.subarray(from, k), (sku, j) => ({ sku: str(sku), qty: p.itemQty[from + j] ?? 0 }));
    reservations.push({ orderId: str(id), items, state: str(p.state[i]) as ReservationRecord['state'], ...fieldOf('at', p.at, i), ...fieldOf('releasedAt', p.releasedAt, i) });
  });
  return { initial: p.initial, available: p.available, reservations, duplicates: p.duplicates };
}

function unpackPayments(p: PackedPayments, str: Str, wanted: Wanted, all: boolean): PaymentsSnapshot {
  const ledger: LedgerEntry[] = [];
  p.orderId.forEach((id, i) => {
    if (!wanted(id)) return;
    ledger.push({ orderId: str(id), customerId: str(p.customerId[i]), kind: str(p.kind[i]) as LedgerEntry['kind'], amountCents: p.amountCents[i] ?? 0, ...fieldOf('at', p.at, i) });
  });
  const kept = [...p.declined.keys()].filter((i) => wanted(p.declined[i]));
  const declinedAt = p.declinedAt;
  return {
    ledger,
    declined: kept.map((i) => str(p.declined[i])),
    ...(declinedAt ? { declinedAt: all ? [...declinedAt] : kept.flatMap((i) => (i < declinedAt.length ? [declinedAt[i] as number] : [])) } : {}),
    duplicates: p.duplicates,
  };
}

function unpackNotifications(p: PackedNotifications, str: Str, wanted: Wanted): NotificationsSnapshot {
  const base = { sent: p.sent, duplicates: p.duplicates };
  const log = p.log;
  if (!log) return base;
  const records: NotificationRecord[] = [];
  log.orderId.forEach((id, i) => {
    if (wanted(id)) records.push({ orderId: str(id), status: str(log.status[i]) as NotificationRecord['status'], at: log.at[i] ?? 0 });
  });
  return { ...base, log: records };
}
