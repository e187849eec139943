import type { NewEvent, RecordedEvent } from '../../event-store/index.js';
import type { CancelReason, OrderItem } from '../../workflow/types.js';

/**
 * The event-sourcing pattern's event catalogue and stream names. Three kinds of
 * aggregate, one stream each: an order (`order-<orderId>`), a stock item
 * (`stock-<sku>`: a hot SKU is one hot stream, so concurrent reservations really
 * conflict) and a customer account (`account-<customerId>`).
 */

export const ORDER_STREAM_PREFIX = 'order-';
export const STOCK_STREAM_PREFIX = 'stock-';
export const ACCOUNT_STREAM_PREFIX = 'account-';

export const orderStream = (orderId: string): string => ORDER_STREAM_PREFIX + orderId;
export const stockStream = (sku: string): string => STOCK_STREAM_PREFIX + sku;
export const accountStream = (customerId: string): string => ACCOUNT_STREAM_PREFIX + customerId;

/** Events of the order stream. */
export const ORDER_EVENTS = {
  created: 'OrderCreated',
  paymentCharged: 'PaymentCharged',
  paymentDeclined: 'PaymentDeclined',
  stockReserved: 'StockReserved',
  stockRejected: 'StockRejected',
  paymentRefunded: 'PaymentRefunded',
  confirmed: 'OrderConfirmed',
  cancelled: 'OrderCancelled',
} as const;

/** Events of a stock item stream (one SKU). */
export const STOCK_EVENTS = {
  reserved: 'StockItemReserved',
  released: 'StockItemReleased',
  /** Confirmed orders whose stock is gone for good: the item forgets their holds (its state stays small). */
  settled: 'StockItemsSettled',
} as const;

/** Events of a customer account stream. */
export const ACCOUNT_EVENTS = {
  charged: 'AccountCharged',
  declined: 'AccountChargeDeclined',
  /** The compensation of a charge whose order ran out of stock. */
  refunded: 'AccountRefunded',
} as const;

export interface OrderCreatedData {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: readonly OrderItem[];
  readonly amountCents: number;
}

/**
 * PaymentCharged carries what inventory needs, so it does not read the order back: the
 * items to reserve, and the rest of the order (`orderAt`: the order's state as of this
 * event). The last two are optional for events written before they were added.
 */
export interface PaymentChargedData {
  readonly orderId: string;
  readonly items: readonly OrderItem[];
  readonly customerId?: string;
  readonly amountCents?: number;
}

/** StockRejected carries what payments needs to refund, and the items (`orderAt`), so it does not read the order back. */
export interface StockRejectedData {
  readonly orderId: string;
  readonly customerId: string;
  readonly amountCents: number;
  readonly items?: readonly OrderItem[];
}

/** OrderConfirmed and OrderCancelled carry the items, so inventory can release them. */
export interface OrderTerminalData {
  readonly orderId: string;
  readonly items: readonly OrderItem[];
  readonly reason?: CancelReason;
}

export interface StockItemData {
  readonly orderId: string;
  readonly qty: number;
}

export interface StockSettledData {
  readonly orderIds: readonly string[];
}

export interface AccountData {
  readonly orderId: string;
  readonly amountCents: number;
}

/** Event data as the given shape. Our own events only: the writer is this folder. */
export function dataOf<T>(event: RecordedEvent | NewEvent): T {
  return event.data as unknown as T;
}

export const isOrderEvent = (event: RecordedEvent): boolean => event.stream.startsWith(ORDER_STREAM_PREFIX);
