import { performance } from 'node:perf_hooks';
import type { ConsumeMessage } from 'amqplib';
import type { InventoryService } from '../workflow/inventory.js';
import type { OrdersService } from '../workflow/orders.js';
import type { PaymentsService } from '../workflow/payments.js';
import type { CancelReason, OrderRequest, TerminalStatus } from '../workflow/types.js';

/** The client's command to the orders service: place this order. */
export const PLACE_ORDER = 'command.place-order';
/** Routing keys of the terminal events, which the client and notifications consume. */
export const ORDER_CONFIRMED = 'order.confirmed';
export const ORDER_CANCELLED = 'order.cancelled';

/** The two shapes of message: an order travelling through the steps, or an order's outcome. */
export type WorkflowEvent =
  | {
      readonly order: OrderRequest;
      /** Epoch ms (performance.timeOrigin-based, the same in every thread) at which a step failed, carried to the end of the compensation. */
      readonly failedAt?: number;
    }
  | { readonly orderId: string; readonly status: TerminalStatus; readonly reason?: CancelReason };

export type OrderEvent = Extract<WorkflowEvent, { order: OrderRequest }>;

/** What a service's handler may do: act on its own service, publish as that service. */
export interface HandlerApi<S> {
  readonly service: S;
  /** Publish an event; resolves once the broker confirmed it. */
  publish(key: string, event: WorkflowEvent): Promise<void>;
}

/** The orders service's handler may also announce an order's outcome and time a compensation. */
export interface OrdersHandlerApi extends HandlerApi<OrdersService> {
  /** Publish the order's outcome (order.confirmed / order.cancelled), if it is terminal. */
  publishOutcome(orderId: string): Promise<void>;
  /** A compensation finished that began when a step failed at `failedAt` (epoch ms). */
  compensated(failedAt: number): void;
}

export interface ServiceHandler<A> {
  readonly keys: readonly string[];
  handle(api: A, key: string, event: OrderEvent): Promise<void>;
}

/**
 * An event-driven workflow over a broker, as data: the event that orders publishes for a
 * new order (`startKey`) and how each service reacts to the keys it is bound to. It is
 * imported by name in whichever thread runs a service, so it must be a module export.
 */
export interface EventWorkflow {
  /** Short name used in queue names, e.g. `queue`. */
  readonly name: string;
  readonly startKey: string;
  readonly services: {
    readonly inventory: ServiceHandler<HandlerApi<InventoryService>>;
    readonly payments: ServiceHandler<HandlerApi<PaymentsService>>;
    readonly orders: ServiceHandler<OrdersHandlerApi>;
  };
}

/** Where a service thread finds an EventWorkflow: a module URL (string) and its export's name. */
export interface WorkflowRef {
  readonly url: string;
  readonly exportName: string;
}

export const epochNow = (): number => performance.timeOrigin + performance.now();

export function parseEvent(msg: ConsumeMessage): WorkflowEvent {
  const value: unknown = JSON.parse(msg.content.toString('utf8'));
  if (typeof value !== 'object' || value === null) throw new TypeError('message is not a JSON object');
  if ('order' in value) {
    const order = (value as { order: Partial<OrderRequest> | null }).order;
    if (typeof order?.orderId !== 'string' || typeof order.customerId !== 'string' || !Array.isArray(order.items)) {
      throw new TypeError('malformed order');
    }
    return value as WorkflowEvent;
  }
  const { orderId, status } = value as { orderId?: unknown; status?: unknown };
  if (typeof orderId !== 'string' || (status !== 'CONFIRMED' && status !== 'CANCELLED')) throw new TypeError('malformed outcome');
  return value as WorkflowEvent;
}

export const encodeEvent = (event: WorkflowEvent): Buffer => Buffer.from(JSON.stringify(event));
