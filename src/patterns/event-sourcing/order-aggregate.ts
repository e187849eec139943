import type { JsonObject, NewEvent, RecordedEvent } from '../../event-store/index.js';
import type { CancelReason, OrderItem, OrderRequest, OrderStatus } from '../../workflow/types.js';
import { ORDER_EVENTS, dataOf, type OrderCreatedData, type OrderTerminalData, type PaymentChargedData, type StockRejectedData } from './events.js';
import type { Loaded } from './repository.js';

/** The order aggregate's folded state (a JSON object, so that it can be snapshotted). */
export interface OrderState {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: readonly OrderItem[];
  readonly amountCents: number;
  readonly status: OrderStatus;
  readonly reason?: CancelReason;
  readonly payment?: 'charged' | 'declined' | 'refunded';
  readonly stock?: 'reserved' | 'rejected';
}

/** A stream that does not exist yet. */
export type MaybeOrder = OrderState | null;

/**
 * Folds one order event. Pure; unknown event types are ignored, so that a new event
 * type does not break an old reader.
 */
export function applyOrderEvent(state: MaybeOrder, event: Pick<RecordedEvent, 'type' | 'data'>): MaybeOrder {
  if (event.type === ORDER_EVENTS.created) {
    const d = dataOf<OrderCreatedData>(event);
    return { orderId: d.orderId, customerId: d.customerId, items: d.items, amountCents: d.amountCents, status: 'PENDING' };
  }
  if (state === null) return null;
  switch (event.type) {
    case ORDER_EVENTS.paymentCharged:
      return { ...state, payment: 'charged', status: 'CHARGED' };
    case ORDER_EVENTS.paymentDeclined:
      return { ...state, payment: 'declined' };
    case ORDER_EVENTS.stockReserved:
      return { ...state, stock: 'reserved', status: 'RESERVED' };
    case ORDER_EVENTS.stockRejected:
      return { ...state, stock: 'rejected' };
    case ORDER_EVENTS.paymentRefunded:
      return { ...state, payment: 'refunded' };
    case ORDER_EVENTS.confirmed:
      return { ...state, status: 'CONFIRMED' };
    case ORDER_EVENTS.cancelled: {
      const reason = dataOf<OrderTerminalData>(event).reason;
      return reason === undefined ? { ...state, status: 'CANCELLED' } : { ...state, status: 'CANCELLED', reason };
    }
    default:
      return state;
  }
}

export const orderToJson = (state: MaybeOrder): JsonObject => (state === null ? {} : (state as unknown as JsonObject));
export const orderFromJson = (json: JsonObject): MaybeOrder => ('orderId' in json ? (json as unknown as OrderState) : null);

/**
 * The order aggregate's decisions, in the workflow's order (charge → reserve → confirm):
 * each returns the events to append (an empty list when the command was already applied —
 * a redelivery, absorbed and counted as a duplicate). A business outcome and its
 * consequence are appended together, atomically: a declined charge cancels the order,
 * reserved stock confirms it, a refund after stock ran out cancels it.
 */
export const OrderAggregate = {
  place(state: MaybeOrder, order: OrderRequest): NewEvent[] {
    if (state !== null) return [];
    const data: OrderCreatedData = { orderId: order.orderId, customerId: order.customerId, items: order.items, amountCents: order.amountCents };
    return [{ type: ORDER_EVENTS.created, data: data as unknown as JsonObject }];
  },

  recordPayment(state: MaybeOrder, charged: boolean): NewEvent[] {
    if (state === null || state.payment !== undefined || state.status !== 'PENDING') return [];
    const { orderId } = state;
    if (charged) return [{ type: ORDER_EVENTS.paymentCharged, data: { orderId, items: itemsJson(state.items), customerId: state.customerId, amountCents: state.amountCents } }];
    return [{ type: ORDER_EVENTS.paymentDeclined, data: { orderId } }, cancelled(state, 'payment_declined')];
  },

  recordStock(state: MaybeOrder, reserved: boolean): NewEvent[] {
    if (state === null || state.payment !== 'charged' || state.stock !== undefined || state.status !== 'CHARGED') return [];
    const { orderId, customerId, amountCents } = state;
    if (reserved) {
      return [
        { type: ORDER_EVENTS.stockReserved, data: { orderId } },
        { type: ORDER_EVENTS.confirmed, data: { orderId, items: itemsJson(state.items) } },
      ];
    }
    // Not terminal yet: the charge is refunded first (the compensation), then the order is cancelled.
    return [{ type: ORDER_EVENTS.stockRejected, data: { orderId, customerId, amountCents, items: itemsJson(state.items) } }];
  },

  recordRefund(state: MaybeOrder): NewEvent[] {
    if (state === null || state.stock !== 'rejected' || state.payment !== 'charged' || state.status !== 'CHARGED') return [];
    return [{ type: ORDER_EVENTS.paymentRefunded, data: { orderId: state.orderId } }, cancelled(state, 'out_of_stock')];
  },
};

function cancelled(state: OrderState, reason: CancelReason): NewEvent {
  return { type: ORDER_EVENTS.cancelled, data: { orderId: state.orderId, items: itemsJson(state.items), reason } };
}

const itemsJson = (items: readonly OrderItem[]): JsonObject[] => items.map((i) => ({ sku: i.sku, qty: i.qty }));

/**
 * The order's state as of `event` (its stream's version then), from the event alone, for
 * the events a processor acts on: OrderCreated (payments charges), PaymentCharged
 * (inventory reserves) and StockRejected (payments refunds). Each of these is appended
 * only on one history — the order created, then charged, then its stock rejected (the
 * guards of `OrderAggregate`) — and carries the order's fields, so that history can be
 * folded without reading the stream. Undefined for any other event, or one written
 * before it carried the fields. The stream may have moved on since: a decision on this
 * state goes with its version as the expected one (`Repository.execute`'s `from`).
 */
export function orderAt(event: RecordedEvent): Loaded<MaybeOrder> | undefined {
  const state = historyOf(event).reduce<MaybeOrder>(applyOrderEvent, null);
  return state === null ? undefined : { state, version: event.version };
}

/** The order events `event` is the last of, rebuilt from its data; none when it does not carry them. */
function historyOf(event: RecordedEvent): Pick<RecordedEvent, 'type' | 'data'>[] {
  if (event.type === ORDER_EVENTS.created) return [event];
  const d = dataOf<Partial<PaymentChargedData & StockRejectedData>>(event);
  if (d.orderId === undefined || d.customerId === undefined || d.amountCents === undefined || d.items === undefined) return [];
  const created: OrderCreatedData = { orderId: d.orderId, customerId: d.customerId, items: d.items, amountCents: d.amountCents };
  const placed = { type: ORDER_EVENTS.created, data: created as unknown as JsonObject };
  if (event.type === ORDER_EVENTS.paymentCharged) return [placed, event];
  if (event.type === ORDER_EVENTS.stockRejected) return [placed, { type: ORDER_EVENTS.paymentCharged, data: {} }, event];
  return [];
}
