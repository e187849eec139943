import { effectClock, TimeColumn, type Clock } from './clock.js';
import type { SnapshotPacker } from './packed-snapshot.js';
import type { OrderItem, ReserveResult } from './types.js';

/** One reservation as the inventory records it. `released` once compensated. */
export interface ReservationRecord {
  readonly orderId: string;
  readonly items: readonly OrderItem[];
  readonly state: 'held' | 'released' | 'rejected';
  /** When the stock was reserved (or the reserve rejected), epoch ms; absent where not recorded. */
  readonly at?: number;
  /** When a held reservation was released, epoch ms. */
  readonly releasedAt?: number;
}

/** Everything the invariant checker needs to know about stock. Plain data (structured-clone safe). */
export interface InventorySnapshot {
  readonly initial: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
  readonly reservations: readonly ReservationRecord[];
  /** Repeated reserve/release calls absorbed by idempotency. */
  readonly duplicates: number;
}

/**
 * `seq`: its place in `reservations`' order, where its times are. A held (or released)
 * reservation keeps its lines in the service's columns (`count` from `first`); a rejected one
 * or a tombstone keeps the items it was given (`items`, empty for a tombstone).
 */
type MutableRecord = { orderId: string; items: readonly OrderItem[] | null; first: number; count: number; state: ReservationRecord['state']; seq: number };

/** How many items a reservation has (none: a tombstone, or a reserve of no items, which holds nothing). */
function countOf(r: MutableRecord): number {
  return r.items ? r.items.length : r.count;
}

/**
 * The lines of held reservations, in columns: each line a SKU (its index in `skus`) and a
 * quantity — no array, object or copy of the SKU's name per line (the order's items, as the
 * transport delivered them, are not kept: a capacity run holds a few hundred thousand).
 */
class Lines {
  sku = new Int32Array(1024);
  qty = new Float64Array(1024);
  size = 0;

  push(sku: number, qty: number): void {
    if (this.size === this.sku.length) this.grow();
    this.sku[this.size] = sku;
    this.qty[this.size++] = qty;
  }

  private grow(): void {
    const sku = new Int32Array(this.sku.length * 2);
    const qty = new Float64Array(this.qty.length * 2);
    sku.set(this.sku);
    qty.set(this.qty);
    this.sku = sku;
    this.qty = qty;
  }
}

/**
 * Stock and reservations. Every effect is keyed by `orderId`: a repeated reserve or
 * release returns the first result and changes nothing. A release that arrives before its
 * reserve (a compensation racing a timed-out call) leaves a tombstone, so the late
 * reserve is refused instead of holding stock for a cancelled order.
 */
export class InventoryService {
  private readonly initial: Record<string, number>;
  /** Stock per SKU: its index by name, and by index its name and what is available (in the order SKUs were first stocked). */
  private readonly skuIndex = new Map<string, number>();
  private readonly skus: string[] = [];
  private readonly available: number[] = [];
  private readonly lines = new Lines();
  private readonly reservations = new Map<string, MutableRecord>();
  /** When each reservation (by `seq`) was made or rejected, and released: two numbers each, so bounded by the state itself. */
  private readonly reservedAt: TimeColumn;
  private readonly releasedAt: TimeColumn;
  private duplicates = 0;

  constructor(initialStock: Readonly<Record<string, number>>, clock: Clock = effectClock()) {
    this.reservedAt = new TimeColumn(clock);
    this.releasedAt = new TimeColumn(clock);
    this.initial = { ...initialStock };
    for (const [sku, qty] of Object.entries(initialStock)) this.available[this.indexOf(sku)] = qty;
  }

  /** Reserve every item or none. */
  reserve(orderId: string, items: readonly OrderItem[]): ReserveResult {
    const existing = this.reservations.get(orderId);
    if (existing) {
      this.duplicates++;
      // A release tombstone (no items) or a rejection: nothing is held for this order.
      return existing.state === 'rejected' || countOf(existing) === 0
        ? { ok: false, reason: 'out_of_stock' }
        : { ok: true };
    }
    for (const item of items) {
      const index = this.skuIndex.get(item.sku);
      if ((index === undefined ? 0 : (this.available[index] ?? 0)) < item.qty) {
        this.add({ orderId, items, first: -1, count: 0, state: 'rejected', seq: this.reservations.size });
        return { ok: false, reason: 'out_of_stock' };
      }
    }
    const first = this.lines.size;
    for (const item of items) {
      const index = this.indexOf(item.sku);
      this.available[index] = (this.available[index] ?? 0) - item.qty;
      this.lines.push(index, item.qty);
    }
    this.add({ orderId, items: null, first, count: items.length, state: 'held', seq: this.reservations.size });
    return { ok: true };
  }

  /** Release the order's reservation, if it holds one. Returns whether stock was returned. */
  release(orderId: string): boolean {
    const existing = this.reservations.get(orderId);
    if (!existing) {
      this.add({ orderId, items: [], first: -1, count: 0, state: 'released', seq: this.reservations.size });
      return false;
    }
    if (existing.state !== 'held') {
      this.duplicates++;
      return false;
    }
    for (let i = existing.first; i < existing.first + existing.count; i++) {
      const index = this.lines.sku[i] ?? 0;
      this.available[index] = (this.available[index] ?? 0) + (this.lines.qty[i] ?? 0);
    }
    existing.state = 'released';
    this.releasedAt.stampAt(existing.seq);
    return true;
  }

  /** A SKU's index, stocking it (at 0) if it has none yet. */
  private indexOf(sku: string): number {
    let index = this.skuIndex.get(sku);
    if (index === undefined) {
      index = this.skus.push(sku) - 1;
      this.skuIndex.set(sku, index);
      this.available[index] = 0;
    }
    return index;
  }

  /** A reservation's items: those it was given, or its lines as items again. */
  private itemsOf(r: MutableRecord): readonly OrderItem[] {
    if (r.items) return r.items;
    const items: OrderItem[] = [];
    for (let i = r.first; i < r.first + r.count; i++) items.push({ sku: this.skus[this.lines.sku[i] ?? 0] ?? '', qty: this.lines.qty[i] ?? 0 });
    return items;
  }

  private availableNow(): Record<string, number> {
    return Object.fromEntries(this.skus.map((sku, i) => [sku, this.available[i] ?? 0]));
  }

  snapshot(): InventorySnapshot {
    return {
      initial: { ...this.initial },
      available: this.availableNow(),
      reservations: [...this.reservations.values()].filter((r) => countOf(r) > 0).map((r) => this.recordOf(r)),
      duplicates: this.duplicates,
    };
  }

  /** The same records packed, straight from the state: no object per reservation (see packed-snapshot.ts). */
  packInto(packer: SnapshotPacker): void {
    let records = 0;
    let items = 0;
    for (const r of this.reservations.values()) {
      records += countOf(r) > 0 ? 1 : 0;
      items += countOf(r);
    }
    packer.reserveReservations(records, items);
    for (const r of this.reservations.values()) {
      if (countOf(r) > 0) packer.reservation(r.orderId, this.itemsOf(r), r.state, this.reservedAt.at(r.seq), this.releasedAt.at(r.seq));
    }
    packer.inventory({ initial: { ...this.initial }, available: this.availableNow(), duplicates: this.duplicates });
  }

  private add(record: MutableRecord): void {
    this.reservations.set(record.orderId, record);
    this.reservedAt.stamp(countOf(record) === 0);
    this.releasedAt.stamp(true);
  }

  private recordOf(r: MutableRecord): ReservationRecord {
    const at = this.reservedAt.at(r.seq);
    const releasedAt = this.releasedAt.at(r.seq);
    return { orderId: r.orderId, items: this.itemsOf(r), state: r.state, ...(at === undefined ? {} : { at }), ...(releasedAt === undefined ? {} : { releasedAt }) };
  }
}
