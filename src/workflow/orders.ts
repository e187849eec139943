import { effectClock, TimeColumn, type Clock } from './clock.js';
import type { SnapshotPacker } from './packed-snapshot.js';
import { ORDER_STATUSES, isTerminal } from './types.js';
import type { CancelReason, OrderOutcome, OrderRequest, OrderStatus, TerminalStatus } from './types.js';

export interface OrderRecord {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly reason?: CancelReason;
}

/** One status the order reached, and when, epoch ms. */
export interface OrderTransition {
  readonly status: OrderStatus;
  readonly at: number;
}

/** An order in a snapshot: its record and, where the pattern records it, the statuses it went through. */
export interface OrderSnapshotRecord extends OrderRecord {
  /** In order; at most one entry per status (status only moves forward), so ≤ 5. */
  readonly history?: readonly OrderTransition[];
}

export interface OrdersSnapshot {
  readonly orders: readonly OrderSnapshotRecord[];
  readonly duplicates: number;
}

export type OrderListener = (record: OrderRecord) => void;

/** `seq`: its place in `orders`' order, which its moves name. */
type Mutable = { orderId: string; status: OrderStatus; reason?: CancelReason; seq: number };

const RANK: ReadonlyMap<OrderStatus, number> = new Map(ORDER_STATUSES.map((s, i) => [s, i]));
/** The same ranks as a plain object: a property read on the hot path instead of a map lookup. */
const STATUS_RANK = Object.fromEntries(RANK) as Readonly<Record<OrderStatus, number>>;

/**
 * The orders service: the state of every order. Status only moves forward
 * (PENDING → CHARGED → RESERVED → CONFIRMED, or → CANCELLED from any non-terminal
 * state); a terminal state is final. Repeated creates and stale transitions are absorbed
 * and counted.
 */
export class OrdersService {
  private readonly orders = new Map<string, Mutable>();
  /** Each customer's orders, in the order they were created: the read side's index. */
  private readonly byCustomer = new Map<string, Mutable[]>();
  private readonly listeners = new Map<string, Set<OrderListener>>();
  private duplicates = 0;
  /**
   * Every status an order reached (`seq * 8 + rank`: small integers) and when: at most five
   * per order, so bounded by the state itself. Empty without a clock.
   */
  private readonly moves: number[] = [];
  private readonly movedAt: TimeColumn;

  constructor(private readonly clock: Clock = effectClock()) {
    this.movedAt = new TimeColumn(clock);
  }

  /** Record a new order as PENDING. Returns false (and changes nothing) if it exists. */
  create(order: OrderRequest): boolean {
    if (this.orders.has(order.orderId)) {
      this.duplicates++;
      return false;
    }
    const record: Mutable = { orderId: order.orderId, status: 'PENDING', seq: this.orders.size };
    this.orders.set(order.orderId, record);
    const mine = this.byCustomer.get(order.customerId);
    if (mine) mine.push(record);
    else this.byCustomer.set(order.customerId, [record]);
    this.moved(record);
    this.emit(record);
    return true;
  }

  /** A customer's orders with their status, oldest first (the source article's "list a customer's orders"). */
  forCustomer(customerId: string): OrderRecord[] {
    return (this.byCustomer.get(customerId) ?? []).map(view);
  }

  get(orderId: string): OrderRecord | undefined {
    const record = this.orders.get(orderId);
    return record ? view(record) : undefined;
  }

  /** Move an order forward. Returns false if the move is stale (already there or past it). */
  advance(orderId: string, status: Exclude<OrderStatus, 'PENDING' | TerminalStatus>): boolean {
    const record = this.orders.get(orderId);
    if (!record || isTerminal(record.status) || (RANK.get(record.status) ?? 0) >= (RANK.get(status) ?? 0)) {
      this.duplicates++;
      return false;
    }
    this.move(record, status);
    this.emit(record);
    return true;
  }

  /** Put an order in its terminal state. Returns false if it already was terminal. */
  finish(orderId: string, status: TerminalStatus, reason?: CancelReason): boolean {
    let record = this.orders.get(orderId);
    if (!record) {
      record = { orderId, status: 'PENDING', seq: this.orders.size };
      this.orders.set(orderId, record);
    }
    if (isTerminal(record.status)) {
      this.duplicates++;
      return false;
    }
    this.move(record, status);
    if (status === 'CANCELLED') record.reason = reason;
    this.emit(record);
    return true;
  }

  /** The outcome of a terminal order, or undefined while it is in flight. */
  outcome(orderId: string): OrderOutcome | undefined {
    const record = this.orders.get(orderId);
    if (!record || !isTerminal(record.status)) return undefined;
    return record.reason ? { orderId, status: record.status, reason: record.reason } : { orderId, status: record.status };
  }

  /** Listen to one order's status changes. Returns the function that stops listening. */
  watch(orderId: string, listener: OrderListener): () => void {
    let set = this.listeners.get(orderId);
    if (!set) {
      set = new Set();
      this.listeners.set(orderId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(orderId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(orderId);
    };
  }

  /** Resolves with the outcome once the order is terminal. */
  whenTerminal(orderId: string): Promise<OrderOutcome> {
    const done = this.outcome(orderId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const stop = this.watch(orderId, () => {
        const outcome = this.outcome(orderId);
        if (outcome) {
          stop();
          resolve(outcome);
        }
      });
    });
  }

  snapshot(): OrdersSnapshot {
    return {
      orders: this.withHistory(),
      duplicates: this.duplicates,
    };
  }

  private move(record: Mutable, status: OrderStatus): void {
    record.status = status;
    this.moved(record);
  }

  private moved(record: Mutable): void {
    if (!this.clock) return;
    this.moves.push(record.seq * 8 + STATUS_RANK[record.status]);
    this.movedAt.stamp();
  }

  /** The same records packed, straight from the state: no object per order (see packed-snapshot.ts). */
  packInto(packer: SnapshotPacker): void {
    const histories = this.histories();
    packer.reserveOrders(this.orders.size, histories ? this.moves.length : 0);
    for (const r of this.orders.values()) packer.order(r.orderId, r.status, r.reason, histories ? (histories[r.seq] ?? []) : undefined);
    packer.orders(this.duplicates);
  }

  /** Every order's record and, with a clock, the statuses it went through. */
  private withHistory(): OrderSnapshotRecord[] {
    const records = [...this.orders.values()];
    const histories = this.histories();
    if (!histories) return records.map(view);
    return records.map((r) => ({ ...view(r), history: histories[r.seq] ?? [] }));
  }

  /** With a clock, the statuses each order (by `seq`) went through; null without. */
  private histories(): OrderTransition[][] | null {
    if (!this.clock) return null;
    const histories: OrderTransition[][] = Array.from({ length: this.orders.size }, () => []);
    this.moves.forEach((move, i) => {
      histories[Math.floor(move / 8)]?.push({ status: ORDER_STATUSES[move % 8] ?? 'PENDING', at: this.movedAt.at(i) ?? 0 });
    });
    return histories;
  }

  private emit(record: Mutable): void {
    const set = this.listeners.get(record.orderId);
    if (!set) return;
    const copy = view(record);
    for (const listener of [...set]) listener(copy);
  }
}

/** The record without its bookkeeping: what callers and listeners see (and what a GET serialises). */
function view(r: Mutable): OrderRecord {
  return r.reason ? { orderId: r.orderId, status: r.status, reason: r.reason } : { orderId: r.orderId, status: r.status };
}

