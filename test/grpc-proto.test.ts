import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OrderUpdate, PlaceOrderRequest } from '../src/patterns/grpc/messages.js';
import { loadOrderProto, protoPath } from '../src/patterns/grpc/proto.js';

describe('orders.proto', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));

  it('is found from the sources and from the built files alike', () => {
    const expected = `${root}proto/orders.proto`;
    expect(existsSync(expected)).toBe(true);
    expect(protoPath(`${root}src/patterns/grpc/proto.ts`)).toBe(expected);
    expect(protoPath(`${root}dist/src/patterns/grpc/proto.js`)).toBe(expected);
  });

  it('names the path it searched from when the proto is missing', () => {
    expect(() => protoPath('/nonexistent/a/b.js')).toThrow('cannot find proto/orders.proto above /nonexistent/a/b.js');
  });

  it('defines every service method the pattern calls', () => {
    const proto = loadOrderProto();
    expect(Object.keys(proto.OrderService).sort()).toEqual(['GetCustomerOrders', 'PlaceOrder', 'StreamOrderUpdates', 'SubmitOrder']);
    expect(proto.OrderService.StreamOrderUpdates.responseStream).toBe(true);
    expect(Object.keys(proto.InventoryService).sort()).toEqual(['Release', 'Reserve']);
    expect(Object.keys(proto.PaymentService).sort()).toEqual(['Charge', 'Refund']);
    expect(Object.keys(proto.NotificationService)).toEqual(['Notify']);
  });

  it('decodes into the hand-written message types (messages.ts): same field names, enums as names, numbers', () => {
    const { PlaceOrder } = loadOrderProto().OrderService;
    const request: PlaceOrderRequest = { orderId: 'o-1', customerId: 'c-1', items: [{ sku: 's', qty: 2 }], amountCents: 2 ** 40 };
    expect(PlaceOrder.requestDeserialize(PlaceOrder.requestSerialize(request))).toEqual(request);
    const update: OrderUpdate = { orderId: 'o-1', status: 'CANCELLED', reason: 'PAYMENT_DECLINED' };
    expect(PlaceOrder.responseDeserialize(PlaceOrder.responseSerialize(update))).toEqual(update);
  });
});
