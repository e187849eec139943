import { epochNow, type EventWorkflow } from '../../amqp/events.js';
import { EventDrivenSystem } from '../../amqp/system.js';
import type { Pattern } from '../types.js';
import { READ_PATH as AMQP_READ_PATH } from '../../amqp/customer-orders.js';

/** The events of the choreographed saga (the seed's chain: payment first, then stock). */
export const SAGA_EVENTS = {
  orderCreated: 'order.created',
  paymentProcessed: 'payment.processed',
  paymentFailed: 'payment.failed',
  stockReserved: 'stock.reserved',
  stockFailed: 'stock.failed',
  paymentRefunded: 'payment.refunded',
} as const;

const E = SAGA_EVENTS;

/**
 * A choreographed saga: no one is in charge. Each service reacts to the event before it
 * and emits the next: `order.created` → payments charges → `payment.processed` →
 * inventory reserves → `stock.reserved` → orders confirms. A failure emits a compensating
 * event that undoes every earlier step: `stock.failed` → payments refunds →
 * `payment.refunded` → orders cancels. `payment.failed` needs no compensation (nothing
 * happened before it). Every step and compensation is idempotent by orderId.
 */
export const choreographyWorkflow: EventWorkflow = {
  name: 'choreo',
  startKey: E.orderCreated,
  services: {
    payments: {
      keys: [E.orderCreated, E.stockFailed],
      async handle(api, key, event) {
        const { order } = event;
        if (key === E.stockFailed) {
          api.service.refund(order.orderId); // compensation
          await api.publish(E.paymentRefunded, event);
          return;
        }
        const r = api.service.charge(order.orderId, order.customerId, order.amountCents);
        await api.publish(r.ok ? E.paymentProcessed : E.paymentFailed, { order });
      },
    },
    inventory: {
      keys: [E.paymentProcessed],
      async handle(api, _key, { order }) {
        const r = api.service.reserve(order.orderId, order.items);
        await api.publish(r.ok ? E.stockReserved : E.stockFailed, r.ok ? { order } : { order, failedAt: epochNow() });
      },
    },
    orders: {
      keys: [E.paymentFailed, E.stockReserved, E.paymentRefunded],
      async handle(api, key, event) {
        const orders = api.service;
        const { orderId } = event.order;
        if (key === E.paymentFailed) orders.finish(orderId, 'CANCELLED', 'payment_declined');
        else if (key === E.paymentRefunded) {
          // The saga is fully compensated: only now is the order cancelled.
          if (orders.finish(orderId, 'CANCELLED', 'out_of_stock') && event.failedAt !== undefined) api.compensated(event.failedAt);
        } else {
          orders.advance(orderId, 'RESERVED');
          orders.finish(orderId, 'CONFIRMED');
        }
        await api.publishOutcome(orderId);
      },
    },
  },
};

export const sagaChoreographyPattern: Pattern = {
  id: 'saga-choreography',
  title: 'Saga — choreography',
  readPath: AMQP_READ_PATH,
  summary: 'Each service reacts to events on the broker and emits the next; failures emit compensating events.',
  tradeOffs: {
    pros: [
      'No central coordinator to scale or lose',
      'Services stay decoupled: each knows only the events it reacts to',
      'Adding a reaction to an event needs no change elsewhere',
    ],
    cons: [
      'The workflow exists only implicitly, spread over the services',
      'Cyclic or forgotten compensations are easy to write and hard to see',
      'Tracing one order means correlating events from every service',
    ],
    whenToUse: 'Few steps, stable flow, teams that own their services end to end.',
  },
  uses: ['broker'],
  start: (ctx) => EventDrivenSystem.start(ctx, choreographyWorkflow, { url: import.meta.url, exportName: 'choreographyWorkflow' }),
};
