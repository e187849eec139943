import type { RecordedEvent } from '../../event-store/index.js';
import { isTerminal, type CancelReason, type OrderStatus, type TerminalStatus } from '../../workflow/types.js';
import { ORDER_EVENTS, dataOf, isOrderEvent, type OrderCreatedData, type OrderTerminalData } from './events.js';

/** One row of the orders read model: what the query side answers. */
export interface OrderView {
  readonly orderId: string;
  readonly customerId: string;
  readonly amountCents: number;
  readonly status: OrderStatus;
  readonly reason?: CancelReason;
  /** The order stream's version this row reflects (the idempotency key of the projection). */
  readonly version: number;
  /** recordedAt (ms since the epoch) of the last event applied. */
  readonly updatedAt: number;
}

export type TerminalListener = (view: OrderView & { readonly status: TerminalStatus }) => void;

const STATUS_BY_EVENT: Readonly<Record<string, OrderStatus>> = {
  [ORDER_EVENTS.created]: 'PENDING',
  [ORDER_EVENTS.paymentCharged]: 'CHARGED',
  [ORDER_EVENTS.stockReserved]: 'RESERVED',
  [ORDER_EVENTS.confirmed]: 'CONFIRMED',
  [ORDER_EVENTS.cancelled]: 'CANCELLED',
};

/**
 * The orders read model (the Q of CQRS), built only from order events. Applying is
 * idempotent by stream version: an event at or below a row's version was applied already
 * (a redelivery after a projection restart) and is counted, not applied again.
 */
export class OrdersReadModel {
  private readonly rows = new Map<string, OrderView>();
  /** Each customer's orderIds in the order their OrderCreated was applied (log order): the read side's index. */
  private readonly byCustomer = new Map<string, string[]>();
  private duplicates = 0;

  constructor(private readonly onTerminal?: TerminalListener) {}

  /** Applies one event; returns false for a duplicate or an event that is not an order's. */
  apply(event: RecordedEvent): boolean {
    if (!isOrderEvent(event)) return false;
    const orderId = (event.data as { orderId?: unknown }).orderId;
    if (typeof orderId !== 'string') return false;
    const row = this.rows.get(orderId);
    if (row !== undefined && event.version <= row.version) {
      this.duplicates++;
      return false;
    }
    const status = STATUS_BY_EVENT[event.type];
    let next: OrderView;
    if (event.type === ORDER_EVENTS.created) {
      const d = dataOf<OrderCreatedData>(event);
      next = { orderId, customerId: d.customerId, amountCents: d.amountCents, status: 'PENDING', version: event.version, updatedAt: event.recordedAt };
      this.index(d.customerId, orderId); // a created event seen again is a duplicate above: each order is indexed once
    } else if (row === undefined) {
      return false; // the projection never starts mid-stream: its checkpoint precedes every order's creation
    } else if (event.type === ORDER_EVENTS.cancelled) {
      const reason = dataOf<OrderTerminalData>(event).reason;
      next = { ...row, status: 'CANCELLED', ...(reason === undefined ? {} : { reason }), version: event.version, updatedAt: event.recordedAt };
    } else {
      next = { ...row, status: status ?? row.status, version: event.version, updatedAt: event.recordedAt };
    }
    this.rows.set(orderId, next);
    if (isTerminal(next.status) && (row === undefined || !isTerminal(row.status))) {
      this.onTerminal?.(next as OrderView & { status: TerminalStatus });
    }
    return true;
  }

  private index(customerId: string, orderId: string): void {
    const mine = this.byCustomer.get(customerId);
    if (mine) mine.push(orderId);
    else this.byCustomer.set(customerId, [orderId]);
  }

  /** A customer's rows as the projection has applied them so far, oldest first; an unknown customer has none. */
  forCustomer(customerId: string): OrderView[] {
    const ids = this.byCustomer.get(customerId) ?? [];
    return ids.map((id) => this.rows.get(id)).filter((row): row is OrderView => row !== undefined);
  }

  get(orderId: string): OrderView | undefined {
    return this.rows.get(orderId);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Redelivered events absorbed. */
  get duplicatesAbsorbed(): number {
    return this.duplicates;
  }

  /** Every row, sorted by orderId (comparable across rebuilds). */
  all(): OrderView[] {
    return [...this.rows.values()].sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  }
}
