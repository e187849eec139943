/**
 * The messages of proto/orders.proto as @grpc/proto-loader hands them over with
 * PROTO_OPTIONS (camelCase fields, enums as their names, 64-bit integers as numbers,
 * defaults filled in). Written by hand next to the proto; keep the two in step.
 */
import type { MethodDefinition } from '@grpc/grpc-js';

export interface OrderItemMsg {
  sku: string;
  qty: number;
}

export type OrderStatusName = 'ORDER_STATUS_UNSPECIFIED' | 'PENDING' | 'RESERVED' | 'CHARGED' | 'CONFIRMED' | 'CANCELLED';
export type CancelReasonName = 'CANCEL_REASON_UNSPECIFIED' | 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'DOWNSTREAM_ERROR';

export interface PlaceOrderRequest {
  orderId: string;
  customerId: string;
  items: OrderItemMsg[];
  amountCents: number;
}

export interface OrderUpdate {
  orderId: string;
  status: OrderStatusName;
  reason: CancelReasonName;
}

export interface StreamOrderUpdatesRequest {
  orderId: string;
}

export interface GetCustomerOrdersRequest {
  customerId: string;
}

/** The read side's view of one order (the proto's `Order`). */
export interface OrderMsg {
  orderId: string;
  status: OrderStatusName;
  reason: CancelReasonName;
}

export interface GetCustomerOrdersResponse {
  orders: OrderMsg[];
}

export interface ReserveRequest {
  orderId: string;
  items: OrderItemMsg[];
}

export interface OrderRef {
  orderId: string;
}

export type Empty = Record<string, never>;

export interface ChargeRequest {
  orderId: string;
  customerId: string;
  amountCents: number;
}

export interface NotifyRequest {
  orderId: string;
  status: OrderStatusName;
}

/** The services of the proto, method by method, with their message types. */
export interface OrderServiceDefinition {
  PlaceOrder: MethodDefinition<PlaceOrderRequest, OrderUpdate>;
  StreamOrderUpdates: MethodDefinition<StreamOrderUpdatesRequest, OrderUpdate>;
  SubmitOrder: MethodDefinition<PlaceOrderRequest, OrderUpdate>;
  GetCustomerOrders: MethodDefinition<GetCustomerOrdersRequest, GetCustomerOrdersResponse>;
}

export interface InventoryServiceDefinition {
  Reserve: MethodDefinition<ReserveRequest, Empty>;
  Release: MethodDefinition<OrderRef, Empty>;
}

export interface PaymentServiceDefinition {
  Charge: MethodDefinition<ChargeRequest, Empty>;
  Refund: MethodDefinition<OrderRef, Empty>;
}

export interface NotificationServiceDefinition {
  Notify: MethodDefinition<NotifyRequest, Empty>;
}
