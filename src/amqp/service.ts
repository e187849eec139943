import type { ConsumeMessage } from 'amqplib';
import { LatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import type { ComponentFactory, RunningComponent } from '../placement/component.js';
import type { CrashableApi, ErrorsApi, ServiceApi, SnapshotPart } from '../patterns/service-api.js';
import { ErrorRate, TransientServiceError } from '../patterns/transient.js';
import { InventoryService } from '../workflow/inventory.js';
import { NotificationsService } from '../workflow/notifications.js';
import { OrdersService, type OrderRecord } from '../workflow/orders.js';
import { PaymentsService } from '../workflow/payments.js';
import type { World } from '../workflow/services.js';
import type { WireMeter } from '../wire/meter.js';
import { CUSTOMER_ORDERS, encodeOrders, parseQuery } from './customer-orders.js';
import { AmqpEndpoint, EndpointStoppedError, type ConsumerSpec } from './endpoint.js';
import {
  encodeEvent,
  epochNow,
  ORDER_CANCELLED,
  ORDER_CONFIRMED,
  parseEvent,
  PLACE_ORDER,
  type EventWorkflow,
  type HandlerApi,
  type OrderEvent,
  type OrdersHandlerApi,
  type WorkflowEvent,
  type WorkflowRef,
} from './events.js';
import { declareTopology, queueOf, type Topology } from './topology.js';

export type EventService = 'orders' | 'inventory' | 'payments' | 'notifications';

export interface EventServiceInit {
  readonly workflow: WorkflowRef;
  readonly service: EventService;
  /** The broker, as this service dials it (routed through the run's network: `amqp:<service>`). */
  readonly url: string;
  readonly topology: Topology;
  readonly ack: 'manual' | 'auto';
  readonly prefetch: number;
  readonly world: World;
}

/** How long a consumer that failed transiently waits before it hands the message back, ms (the retry's backoff). */
const TRANSIENT_BACKOFF_MS = 20;

export interface EventServiceApi extends ServiceApi, CrashableApi, ErrorsApi {
  /** Nothing waiting for a confirm and no handler running. */
  idle(): boolean;
  /** Sagas: failure detected → fully compensated, over the orders this service cancelled after a compensation. */
  compensation(): LatencySummary;
}

/** The routing keys each service's queue is bound to, for a workflow. */
export function bindingsOf(workflow: EventWorkflow): Record<string, readonly string[]> {
  return {
    orders: [PLACE_ORDER, ...workflow.services.orders.keys],
    inventory: workflow.services.inventory.keys,
    payments: workflow.services.payments.keys,
    notifications: [ORDER_CONFIRMED, ORDER_CANCELLED],
    client: [ORDER_CONFIRMED, ORDER_CANCELLED],
    // The read side: the orders service answers queries from this queue.
    [CUSTOMER_ORDERS]: [CUSTOMER_ORDERS],
  };
}

async function loadWorkflow(ref: WorkflowRef): Promise<EventWorkflow> {
  const mod = (await import(ref.url)) as Record<string, unknown>;
  const workflow = mod[ref.exportName] as EventWorkflow | undefined;
  if (!workflow?.services) throw new Error(`${ref.url} has no event workflow ${ref.exportName}`);
  return workflow;
}

/**
 * One service of an event-driven workflow (queue, choreography) as a component: its own
 * state, its own AMQP connection (manual acks and a prefetch; ack once its publishes are
 * confirmed), and the workflow's handler for the keys it is bound to. Orders also takes
 * the client's place-order command: it records the order and publishes the workflow's
 * start event.
 */
export const startEventService: ComponentFactory<EventServiceInit, EventServiceApi> = async (init, env) => {
  const workflow = await loadWorkflow(init.workflow);
  const hopErrors: Record<string, number> = {};
  const compensations = new LatencyHistogram();
  const ref: { endpoint?: AmqpEndpoint } = {};
  const publish = (key: string, event: WorkflowEvent) => {
    if (!ref.endpoint) return Promise.reject(new EndpointStoppedError(init.service));
    env.meter.countMessages(1);
    return ref.endpoint.publish(init.topology.exchange, key, encodeEvent(event));
  };
  const served = dispatcher(init, workflow, publish, (failedAt) => compensations.recordMs(epochNow() - failedAt));
  const { dispatch, snapshot } = served;
  const errors = new ErrorRate(env.random.fork());
  const consumer: ConsumerSpec = {
    queue: queueOf(init.topology, init.service),
    prefetch: init.prefetch,
    ack: init.ack,
    handle: async (msg: ConsumeMessage) => {
      env.meter.countMessages(1);
      // The flaky scenario: this delivery fails before anything is done, and goes back to the queue after a backoff.
      if (errors.fail()) {
        await new Promise((resolve) => setTimeout(resolve, TRANSIENT_BACKOFF_MS));
        throw new TransientServiceError(init.service);
      }
      return dispatch(msg);
    },
  };
  const endpoint = new AmqpEndpoint({
    name: init.service,
    url: init.url,
    topology: (ch) => declareTopology(ch, init.topology),
    consumers: 'forCustomer' in served ? [consumer, queryConsumer(init, env.meter, served.forCustomer, ref)] : [consumer],
    meter: env.meter,
    onError: (kind, err) => {
      if (err instanceof EndpointStoppedError) return;
      hopErrors[`${init.service}:${kind}`] = (hopErrors[`${init.service}:${kind}`] ?? 0) + 1;
    },
  });
  ref.endpoint = endpoint;
  try {
    await endpoint.start();
  } catch (err) {
    await endpoint.stop();
    throw err;
  }
  return component(endpoint, snapshot, hopErrors, compensations, errors);
};

/**
 * The orders service's read side: answer each `query.customer-orders` request with the
 * customer's orders, to the request's reply-to and correlation id. A request without
 * them has no one to answer: dropped (acked).
 */
function queryConsumer(init: EventServiceInit, meter: WireMeter, forCustomer: (customerId: string) => readonly OrderRecord[], ref: { endpoint?: AmqpEndpoint }): ConsumerSpec {
  return {
    queue: queueOf(init.topology, CUSTOMER_ORDERS),
    prefetch: init.prefetch,
    ack: 'manual',
    handle: async (msg: ConsumeMessage) => {
      meter.countMessages(1);
      const { replyTo, correlationId } = msg.properties as { replyTo?: unknown; correlationId?: unknown };
      if (typeof replyTo !== 'string' || typeof correlationId !== 'string') return;
      const body = encodeOrders(forCustomer(parseQuery(msg.content)));
      if (ref.endpoint?.reply(replyTo, correlationId, body)) meter.countMessages(1);
    },
  };
}

function component(endpoint: AmqpEndpoint, snapshot: () => SnapshotPart, hopErrors: Record<string, number>, compensations: LatencyHistogram, errors: ErrorRate): RunningComponent<EventServiceApi> {
  return {
    api: {
      snapshot,
      hopErrors: () => ({ ...hopErrors }),
      errors: (share: number) => errors.set(share),
      crash: (downMs: number) => endpoint.crash(downMs),
      idle: () => endpoint.idle,
      compensation: () => compensations.summary(),
    },
    stop: () => endpoint.stop(),
  };
}

type Publish = (key: string, event: WorkflowEvent) => Promise<void>;

/** The service's state and how a delivery reaches its handler. Throwing dead-letters the message. */
function dispatcher(init: EventServiceInit, workflow: EventWorkflow, publish: Publish, compensated: (failedAt: number) => void) {
  const needOrder = (msg: ConsumeMessage): OrderEvent => {
    const event = parseEvent(msg);
    if (!('order' in event)) throw new TypeError(`${init.service}: expected an order on ${msg.fields.routingKey}`);
    return event;
  };
  switch (init.service) {
    case 'inventory': {
      const api: HandlerApi<InventoryService> = { service: new InventoryService(init.world.stock), publish };
      return { dispatch: (msg: ConsumeMessage) => workflow.services.inventory.handle(api, msg.fields.routingKey, needOrder(msg)), snapshot: () => ({ inventory: api.service.snapshot() }) };
    }
    case 'payments': {
      const api: HandlerApi<PaymentsService> = { service: new PaymentsService(init.world.balances), publish };
      return { dispatch: (msg: ConsumeMessage) => workflow.services.payments.handle(api, msg.fields.routingKey, needOrder(msg)), snapshot: () => ({ payments: api.service.snapshot() }) };
    }
    case 'notifications': {
      const notifications = new NotificationsService();
      return {
        dispatch: async (msg: ConsumeMessage) => {
          const event = parseEvent(msg);
          if ('order' in event) throw new TypeError(`notifications: expected an outcome, got an order on ${msg.fields.routingKey}`);
          notifications.notify(event.orderId, event.status);
        },
        snapshot: () => ({ notifications: notifications.snapshot() }),
      };
    }
    case 'orders':
      return ordersDispatcher(workflow, publish, compensated, needOrder);
  }
}

function ordersDispatcher(workflow: EventWorkflow, publish: Publish, compensated: (failedAt: number) => void, needOrder: (msg: ConsumeMessage) => OrderEvent) {
  const orders = new OrdersService();
  const api: OrdersHandlerApi = {
    service: orders,
    publish,
    publishOutcome: async (orderId) => {
      const outcome = orders.outcome(orderId);
      if (outcome) await publish(outcome.status === 'CONFIRMED' ? ORDER_CONFIRMED : ORDER_CANCELLED, outcome);
    },
    compensated,
  };
  return {
    dispatch: async (msg: ConsumeMessage) => {
      const event = needOrder(msg);
      const key = msg.fields.routingKey;
      if (key !== PLACE_ORDER) return workflow.services.orders.handle(api, key, event);
      // A new order starts the workflow. A repeated command (the client's retry, or a redelivery
      // after a crash lost the start event) answers a terminal order and starts the rest again:
      // the steps are idempotent by orderId.
      orders.create(event.order);
      if (orders.outcome(event.order.orderId)) return api.publishOutcome(event.order.orderId);
      return publish(workflow.startKey, { order: event.order });
    },
    snapshot: () => ({ orders: orders.snapshot() }),
    forCustomer: (customerId: string) => orders.forCustomer(customerId),
  };
}
