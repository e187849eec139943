import type { EventWorkflow } from '../../amqp/events.js';
import { EventDrivenSystem } from '../../amqp/system.js';
import type { Pattern } from '../types.js';
import { READ_PATH as AMQP_READ_PATH } from '../../amqp/customer-orders.js';

/** The routing keys of the queue pattern's events. */
export const KEYS = {
  orderPlaced: 'order.placed',
  paymentCharged: 'payment.charged',
  paymentDeclined: 'payment.declined',
  stockReserved: 'stock.reserved',
  stockRejected: 'stock.rejected',
} as const;

/**
 * The order workflow as a pipeline of queues, in the workflow's order (charge → reserve →
 * confirm): orders publishes `order.placed`; payments charges and publishes
 * `payment.charged` or `payment.declined`; inventory reserves on `payment.charged` and
 * publishes `stock.reserved` or `stock.rejected`; payments refunds on `stock.rejected` (the
 * compensation, fire and forget); orders turns the results into `order.confirmed` or
 * `order.cancelled` at once — unlike the choreographed saga, it does not wait for the
 * refund. Every consumer is idempotent by orderId (the services are).
 */
export const queueWorkflow: EventWorkflow = {
  name: 'queue',
  startKey: KEYS.orderPlaced,
  services: {
    payments: {
      keys: [KEYS.orderPlaced, KEYS.stockRejected],
      async handle(api, key, { order }) {
        if (key === KEYS.stockRejected) {
          api.service.refund(order.orderId);
          return;
        }
        const r = api.service.charge(order.orderId, order.customerId, order.amountCents);
        await api.publish(r.ok ? KEYS.paymentCharged : KEYS.paymentDeclined, { order });
      },
    },
    inventory: {
      keys: [KEYS.paymentCharged],
      async handle(api, _key, { order }) {
        const r = api.service.reserve(order.orderId, order.items);
        await api.publish(r.ok ? KEYS.stockReserved : KEYS.stockRejected, { order });
      },
    },
    orders: {
      keys: [KEYS.paymentDeclined, KEYS.stockReserved, KEYS.stockRejected],
      async handle(api, key, { order }) {
        const orders = api.service;
        if (key === KEYS.paymentDeclined) orders.finish(order.orderId, 'CANCELLED', 'payment_declined');
        else if (key === KEYS.stockRejected) orders.finish(order.orderId, 'CANCELLED', 'out_of_stock');
        else {
          orders.advance(order.orderId, 'RESERVED');
          orders.finish(order.orderId, 'CONFIRMED');
        }
        // The order's state as it stands: a redelivered event republishes the same outcome.
        await api.publishOutcome(order.orderId);
      },
    },
  },
};

export const queuePattern: Pattern = {
  id: 'queue',
  title: 'Message queue (AMQP)',
  readPath: AMQP_READ_PATH,
  summary: 'Services exchange events through a broker: confirmed publishes, manual acks, prefetch, dead letters.',
  tradeOffs: {
    pros: [
      'The client is answered as soon as the broker has the order (accept latency)',
      'Load spikes queue up instead of failing; consumers work at their own pace',
      'A crashed consumer loses nothing: unacked messages are redelivered',
    ],
    cons: [
      'End-to-end latency includes every hop through the broker',
      'At-least-once delivery: every consumer must be idempotent',
      'One more piece of infrastructure to run, monitor and size',
    ],
    whenToUse: 'Work that may finish later than the request, bursts to absorb, and services that must survive each other’s outages.',
  },
  uses: ['broker'],
  start: (ctx) => EventDrivenSystem.start(ctx, queueWorkflow, { url: import.meta.url, exportName: 'queueWorkflow' }),
};
