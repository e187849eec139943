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

/** `seq`: its place in `reservations`' order, where its times are. */
type MutableRecord = { orderId: string; items: readonly OrderItem[]; state: ReservationRecord['state']; seq: number };

/**
 * Stock and reservations. Every effect is keyed by `orderId`: a repeated reserve or
 * release returns the first result and changes nothing. A release that arrives before its
 * reserve (a compensation racing a timed-out call) leaves a tombstone, so the late
 * reserve is refused instead of holding stock for a cancelled order.
 */
export class InventoryService {
  private readonly initial: Record<string, number>;
  private readonly available = new Map<string, number>();
  private readonly reservations = new Map<string, MutableRecord>();
  /** When each reservation (by `seq`) was made or rejected, and released: two numbers each, so bounded by the state itself. */
  private readonly reservedAt: TimeColumn;
  private readonly releasedAt: TimeColumn;
  private duplicates = 0;

  constructor(initialStock: Readonly<Record<string, number>>, clock: Clock = effectClock()) {
    this.reservedAt = new TimeColumn(clock);
    this.releasedAt = new TimeColumn(clock);
    this.initial = { ...initialStock };
    for (const [sku, qty] of Object.entries(initialStock)) this.available.set(sku, qty);
  }

  /** Reserve every item or none. */
  reserve(orderId: string, items: readonly OrderItem[]): ReserveResult {
    const existing = this.reservations.get(orderId);
    if (existing) {
      this.duplicates++;
      // A release tombstone (no items) or a rejection: nothing is held for this order.
      return existing.state === 'rejected' || existing.items.length === 0
        ? { ok: false, reason: 'out_of_stock' }
        : { ok: true };
    }
    for (const item of items) {
      if ((this.available.get(item.sku) ?? 0) < item.qty) {
        this.add({ orderId, items, state: 'rejected', seq: this.reservations.size });
        return { ok: false, reason: 'out_of_stock' };
      }
    }
    for (const item of items) this.available.set(item.sku, (this.available.get(item.sku) ?? 0) - item.qty);
    this.add({ orderId, items, state: 'held', seq: this.reservations.size });
    return { ok: true };
  }

  /** Release the order's reservation, if it holds one. Returns whether stock was returned. */
  release(orderId: string): boolean {
    const existing = this.reservations.get(orderId);
    if (!existing) {
      this.add({ orderId, items: [], state: 'released', seq: this.reservations.size });
      return false;
    }
    if (existing.state !== 'held') {
      this.duplicates++;
      return false;
    }
    for (const item of existing.items) this.available.set(item.sku, (this.available.get(item.sku) ?? 0) + item.qty);
    existing.state = 'released';
    this.releasedAt.stampAt(existing.seq);
    return true;
  }

  snapshot(): InventorySnapshot {
    return {
      initial: { ...this.initial },
      available: Object.fromEntries(this.available),
      reservations: [...this.reservations.values()]
        .filter((r) => r.items.length > 0)
        .map((r) => this.recordOf(r)),
      duplicates: this.duplicates,
    };
  }

  /** The same records packed, straight from the state: no object per reservation (see packed-snapshot.ts). */
  packInto(packer: SnapshotPacker): void {
    let records = 0;
    let items = 0;
    for (const r of this.reservations.values()) {
      records += r.items.length > 0 ? 1 : 0;
      items += r.items.length;
    }
    packer.reserveReservations(records, items);
    for (const r of this.reservations.values()) {
      if (r.items.length > 0) packer.reservation(r.orderId, r.items, r.state, this.reservedAt.at(r.seq), this.releasedAt.at(r.seq));
    }
    packer.inventory({ initial: { ...this.initial }, available: Object.fromEntries(this.available), duplicates: this.duplicates });
  }

  private add(record: MutableRecord): void {
    this.reservations.set(record.orderId, record);
    this.reservedAt.stamp(record.items.length === 0);
    this.releasedAt.stamp(true);
  }

  private recordOf(r: MutableRecord): ReservationRecord {
    const at = this.reservedAt.at(r.seq);
    const releasedAt = this.releasedAt.at(r.seq);
    return { orderId: r.orderId, items: r.items, state: r.state, ...(at === undefined ? {} : { at }), ...(releasedAt === undefined ? {} : { releasedAt }) };
  }
}
