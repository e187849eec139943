import type { OrderItem, ReserveResult } from './types.js';

/** One reservation as the inventory records it. `released` once compensated. */
export interface ReservationRecord {
  readonly orderId: string;
  readonly items: readonly OrderItem[];
  readonly state: 'held' | 'released' | 'rejected';
}

/** Everything the invariant checker needs to know about stock. Plain data (structured-clone safe). */
export interface InventorySnapshot {
  readonly initial: Readonly<Record<string, number>>;
  readonly available: Readonly<Record<string, number>>;
  readonly reservations: readonly ReservationRecord[];
  /** Repeated reserve/release calls absorbed by idempotency. */
  readonly duplicates: number;
}

type MutableRecord = { orderId: string; items: readonly OrderItem[]; state: ReservationRecord['state'] };

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
  private duplicates = 0;

  constructor(initialStock: Readonly<Record<string, number>>) {
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
        this.reservations.set(orderId, { orderId, items, state: 'rejected' });
        return { ok: false, reason: 'out_of_stock' };
      }
    }
    for (const item of items) this.available.set(item.sku, (this.available.get(item.sku) ?? 0) - item.qty);
    this.reservations.set(orderId, { orderId, items, state: 'held' });
    return { ok: true };
  }

  /** Release the order's reservation, if it holds one. Returns whether stock was returned. */
  release(orderId: string): boolean {
    const existing = this.reservations.get(orderId);
    if (!existing) {
      this.reservations.set(orderId, { orderId, items: [], state: 'released' });
      return false;
    }
    if (existing.state !== 'held') {
      this.duplicates++;
      return false;
    }
    for (const item of existing.items) this.available.set(item.sku, (this.available.get(item.sku) ?? 0) + item.qty);
    existing.state = 'released';
    return true;
  }

  snapshot(): InventorySnapshot {
    return {
      initial: { ...this.initial },
      available: Object.fromEntries(this.available),
      reservations: [...this.reservations.values()]
        .filter((r) => r.items.length > 0)
        .map((r) => ({ orderId: r.orderId, items: r.items, state: r.state })),
      duplicates: this.duplicates,
    };
  }
}
