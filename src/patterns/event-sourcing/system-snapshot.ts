import { readAllEvents, type EventStore, type RecordedEvent } from '../../event-store/index.js';
import type { InventorySnapshot, ReservationRecord } from '../../workflow/inventory.js';
import type { NotificationsSnapshot } from '../../workflow/notifications.js';
import type { OrderSnapshotRecord, OrderTransition } from '../../workflow/orders.js';
import type { LedgerEntry } from '../../workflow/payments.js';
import type { SystemSnapshot, World } from '../../workflow/services.js';
import type { OrderItem } from '../../workflow/types.js';
import { ACCOUNT_EVENTS, ACCOUNT_STREAM_PREFIX, STOCK_EVENTS, STOCK_STREAM_PREFIX, dataOf, type AccountData, type StockItemData } from './events.js';
import { applyOrderEvent, type MaybeOrder } from './order-aggregate.js';

/** Redeliveries absorbed by each service, counted by the processors and the projection. */
export interface DuplicateCounts {
  readonly orders: number;
  readonly inventory: number;
  readonly payments: number;
}

/**
 * Folds a log into the state the invariant checker reads. The log is the truth of this
 * pattern: orders from the order streams, stock and reservations from the stock item
 * streams (initial stock from the world), the payment ledger from the account streams.
 * Nothing is taken from the aggregates' snapshots or the read model.
 */
export class SystemFold {
  private readonly orders = new Map<string, MaybeOrder>();
  private readonly available = new Map<string, number>();
  /** orderId → sku → qty currently held; and which orders ever held something. */
  private readonly held = new Map<string, Map<string, number>>();
  private readonly everHeld = new Map<string, Map<string, number>>();
  private readonly ledger: LedgerEntry[] = [];
  private readonly declined: string[] = [];
  private readonly declinedAt: number[] = [];
  /** Per order: the statuses it reached and when the store recorded them; when it first reserved, last released. */
  private readonly history = new Map<string, OrderTransition[]>();
  private readonly reservedAt = new Map<string, number>();
  private readonly releasedAt = new Map<string, number>();

  constructor(private readonly world: World) {
    for (const [sku, qty] of Object.entries(world.stock)) this.available.set(sku, qty);
  }

  apply(event: RecordedEvent): void {
    if (event.stream.startsWith(STOCK_STREAM_PREFIX)) return this.applyStock(event.stream.slice(STOCK_STREAM_PREFIX.length), event);
    if (event.stream.startsWith(ACCOUNT_STREAM_PREFIX)) return this.applyAccount(event.stream.slice(ACCOUNT_STREAM_PREFIX.length), event);
    const orderId = (event.data as { orderId?: unknown }).orderId;
    if (typeof orderId !== 'string') return;
    const before = this.orders.get(orderId) ?? null;
    const after = applyOrderEvent(before, event);
    this.orders.set(orderId, after);
    if (after !== null && after.status !== before?.status) {
      const trail = this.history.get(orderId) ?? [];
      this.history.set(orderId, trail);
      trail.push({ status: after.status, at: event.recordedAt });
    }
  }

  private applyStock(sku: string, event: RecordedEvent): void {
    const { orderId, qty } = dataOf<StockItemData>(event);
    const sign = event.type === STOCK_EVENTS.reserved ? -1 : event.type === STOCK_EVENTS.released ? 1 : 0;
    if (sign === 0) return;
    this.available.set(sku, (this.available.get(sku) ?? 0) + sign * qty);
    const lines = this.held.get(orderId) ?? new Map<string, number>();
    this.held.set(orderId, lines);
    if (sign < 0) {
      if (!this.reservedAt.has(orderId)) this.reservedAt.set(orderId, event.recordedAt);
      lines.set(sku, (lines.get(sku) ?? 0) + qty);
      const ever = this.everHeld.get(orderId) ?? new Map<string, number>();
      this.everHeld.set(orderId, ever);
      ever.set(sku, qty);
    } else {
      this.releasedAt.set(orderId, event.recordedAt);
      lines.set(sku, (lines.get(sku) ?? 0) - qty);
    }
  }

  private applyAccount(customerId: string, event: RecordedEvent): void {
    const { orderId, amountCents } = dataOf<AccountData>(event);
    const at = event.recordedAt;
    if (event.type === ACCOUNT_EVENTS.charged) this.ledger.push({ orderId, customerId, kind: 'charge', amountCents, at });
    else if (event.type === ACCOUNT_EVENTS.refunded) this.ledger.push({ orderId, customerId, kind: 'refund', amountCents, at });
    else if (event.type === ACCOUNT_EVENTS.declined) {
      this.declined.push(orderId);
      this.declinedAt.push(at);
    }
  }

  /**
   * One reservation record per order that ever held stock: `held` with the lines it still
   * holds (a partly released order shows as held, and the checker sees the leak),
   * `released` once nothing is held.
   */
  snapshot(duplicates: DuplicateCounts, notifications: NotificationsSnapshot): SystemSnapshot {
    const orders: OrderSnapshotRecord[] = [];
    for (const [orderId, state] of this.orders) {
      if (state === null) continue;
      const history = this.history.get(orderId) ?? [];
      orders.push(state.reason === undefined ? { orderId, status: state.status, history } : { orderId, status: state.status, reason: state.reason, history });
    }
    const reservations: ReservationRecord[] = [];
    for (const [orderId, ever] of this.everHeld) {
      const holding: OrderItem[] = [];
      for (const [sku, qty] of this.held.get(orderId) ?? []) if (qty !== 0) holding.push({ sku, qty });
      const at = this.reservedAt.get(orderId) ?? 0;
      const releasedAt = this.releasedAt.get(orderId);
      reservations.push(
        holding.length > 0
          ? { orderId, items: holding, state: 'held', at }
          : { orderId, items: [...ever].map(([sku, qty]) => ({ sku, qty })), state: 'released', at, ...(releasedAt === undefined ? {} : { releasedAt }) },
      );
    }
    const inventory: InventorySnapshot = {
      initial: { ...this.world.stock },
      available: Object.fromEntries(this.available),
      reservations,
      duplicates: duplicates.inventory,
    };
    return {
      orders: { orders, duplicates: duplicates.orders },
      inventory,
      payments: { ledger: [...this.ledger], declined: [...this.declined], declinedAt: [...this.declinedAt], duplicates: duplicates.payments },
      notifications,
    };
  }
}

/** Reads the whole log and folds it (see SystemFold). */
export async function snapshotFromLog(
  store: EventStore,
  world: World,
  duplicates: DuplicateCounts,
  notifications: NotificationsSnapshot,
): Promise<SystemSnapshot> {
  const fold = new SystemFold(world);
  for await (const event of readAllEvents(store)) fold.apply(event);
  return fold.snapshot(duplicates, notifications);
}
