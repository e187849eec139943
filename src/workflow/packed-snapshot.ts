/**
 * A system snapshot in columns: what a run's state crosses a thread in when it is large
 * (direct's capacity run: 100–300k orders). As objects, every record is an object with
 * its strings, made once on the system's thread and again on the main thread when its JSON
 * is parsed (~1.3 KB per order there); in columns every string is kept once, in `strings`,
 * and each record is a few small numbers in plain arrays (~0.1 KB per order). Lossless:
 * `unpackSnapshot(packSnapshot(s))` has every field of `s`. Plain data, JSON-safe, so it
 * travels as any call's result does (placement/answer.ts).
 */
import type { InventorySnapshot, ReservationRecord } from './inventory.js';
import type { OrderSnapshotRecord, OrdersSnapshot } from './orders.js';
import type { LedgerEntry, PaymentsSnapshot } from './payments.js';
import type { NotificationRecord, NotificationsSnapshot } from './notifications.js';
import type { SystemSnapshot } from './services.js';

/** A column of optional numbers (null where a record has none); absent when no record has one. */
type OptionalColumn = (number | null)[] | undefined;

export interface PackedOrders {
  /** Per order: its id, status and cancel reason (-1: none) as indexes into `strings`. */
  readonly orderId: number[];
  readonly status: number[];
  readonly reason: number[];
  /** Per order, how many transitions its history has (-1: no history); the transitions, all orders' in a row. */
  readonly historyLength: number[];
  readonly historyStatus: number[];
  readonly historyAt: number[];
  readonly duplicates: number;
}

export interface PackedInventory {
  readonly initial: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
  /** Per reservation: its order and state (indexes into `strings`), how many items; the items, all reservations' in a row. */
  readonly orderId: number[];
  readonly state: number[];
  readonly itemCount: number[];
  readonly itemSku: number[];
  readonly itemQty: number[];
  readonly at: OptionalColumn;
  readonly releasedAt: OptionalColumn;
  readonly duplicates: number;
}

export interface PackedPayments {
  /** Per ledger entry: order, customer and kind (indexes into `strings`), amount and time. */
  readonly orderId: number[];
  readonly customerId: number[];
  readonly kind: number[];
  readonly amountCents: number[];
  readonly at: OptionalColumn;
  readonly declined: number[];
  readonly declinedAt?: readonly number[];
  readonly duplicates: number;
}

export interface PackedNotifications {
  readonly sent: number;
  readonly duplicates: number;
  readonly log?: { readonly orderId: number[]; readonly status: number[]; readonly at: number[] };
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

function optionalColumn(values: readonly (number | undefined)[]): OptionalColumn {
  return values.some((v) => v !== undefined) ? values.map((v) => v ?? null) : undefined;
}

export function packSnapshot(snapshot: SystemSnapshot): PackedSnapshot {
  const table = new StringTable();
  // Orders first: their ids are most of the strings, and the checker reads them first.
  const orders = packOrders(snapshot.orders, table);
  return {
    format: 'packed-snapshot/1',
    orders,
    inventory: packInventory(snapshot.inventory, table),
    payments: packPayments(snapshot.payments, table),
    notifications: packNotifications(snapshot.notifications, table),
    strings: table.strings,
  };
}

function packOrders(s: OrdersSnapshot, table: StringTable): PackedOrders {
  const out: PackedOrders = { orderId: [], status: [], reason: [], historyLength: [], historyStatus: [], historyAt: [], duplicates: s.duplicates };
  for (const o of s.orders) {
    out.orderId.push(table.of(o.orderId));
    out.status.push(table.of(o.status));
    out.reason.push(table.optional(o.reason));
    out.historyLength.push(o.history ? o.history.length : -1);
    for (const h of o.history ?? []) {
      out.historyStatus.push(table.of(h.status));
      out.historyAt.push(h.at);
    }
  }
  return out;
}

function packInventory(s: InventorySnapshot, table: StringTable): PackedInventory {
  const columns = { orderId: [] as number[], state: [] as number[], itemCount: [] as number[], itemSku: [] as number[], itemQty: [] as number[] };
  for (const r of s.reservations) {
    columns.orderId.push(table.of(r.orderId));
    columns.state.push(table.of(r.state));
    columns.itemCount.push(r.items.length);
    for (const item of r.items) {
      columns.itemSku.push(table.of(item.sku));
      columns.itemQty.push(item.qty);
    }
  }
  return {
    initial: s.initial,
    available: s.available,
    ...columns,
    at: optionalColumn(s.reservations.map((r) => r.at)),
    releasedAt: optionalColumn(s.reservations.map((r) => r.releasedAt)),
    duplicates: s.duplicates,
  };
}

function packPayments(s: PaymentsSnapshot, table: StringTable): PackedPayments {
  const columns = { orderId: [] as number[], customerId: [] as number[], kind: [] as number[], amountCents: [] as number[] };
  for (const e of s.ledger) {
    columns.orderId.push(table.of(e.orderId));
    columns.customerId.push(table.of(e.customerId));
    columns.kind.push(table.of(e.kind));
    columns.amountCents.push(e.amountCents);
  }
  return {
    ...columns,
    at: optionalColumn(s.ledger.map((e) => e.at)),
    declined: s.declined.map((id) => table.of(id)),
    ...(s.declinedAt ? { declinedAt: s.declinedAt } : {}),
    duplicates: s.duplicates,
  };
}

function packNotifications(s: NotificationsSnapshot, table: StringTable): PackedNotifications {
  const base = { sent: s.sent, duplicates: s.duplicates };
  if (!s.log) return base;
  return { ...base, log: { orderId: s.log.map((n) => table.of(n.orderId)), status: s.log.map((n) => table.of(n.status)), at: s.log.map((n) => n.at) } };
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
  const v = column?.[i];
  return v === null || v === undefined ? {} : ({ [name]: v } as Partial<Record<K, number>>);
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
    const history = length < 0 ? undefined : p.historyAt.slice(from, h).map((at, k) => ({ status: str(p.historyStatus[from + k]) as OrderSnapshotRecord['status'], at }));
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
    const items = p.itemSku.slice(from, k).map((sku, j) => ({ sku: str(sku), qty: p.itemQty[from + j] ?? 0 }));
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
  const kept = p.declined.flatMap((id, i) => (wanted(id) ? [i] : []));
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
