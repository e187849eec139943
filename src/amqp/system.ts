import { performance } from 'node:perf_hooks';
import type { Channel, ConsumeMessage } from 'amqplib';
import { LatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import type {
  Backlog,
  BacklogReporter,
  CompensationReporter,
  Crashable,
  Drainable,
  HopErrorCounter,
  PatternContext,
  RunningPattern,
  TransportInfo,
  WireMetered,
} from '../patterns/types.js';
import { createServices, snapshotServices, type SystemSnapshot, type WorkflowServices } from '../workflow/services.js';
import type { CancelReason, OrderOutcome, OrderRequest, TerminalStatus } from '../workflow/types.js';
import { WireMeter } from '../wire/meter.js';
import { openBroker, type BrokerHandle } from './broker.js';
import { AmqpEndpoint, EndpointStoppedError, type ConsumerSpec } from './endpoint.js';
import { declareTopology, deleteTopology, makeTopology, queueOf, type Topology } from './topology.js';

/** Routing keys of the terminal events, which the client and notifications consume. */
export const ORDER_CONFIRMED = 'order.confirmed';
export const ORDER_CANCELLED = 'order.cancelled';

/** The two shapes of message: an order travelling through the steps, or an order's outcome. */
export type WorkflowEvent =
  | {
      readonly order: OrderRequest;
      /** Epoch ms (performance.timeOrigin-based) at which a step failed, carried to the end of the compensation. */
      readonly failedAt?: number;
    }
  | { readonly orderId: string; readonly status: TerminalStatus; readonly reason?: CancelReason };

export type OrderEvent = Extract<WorkflowEvent, { order: OrderRequest }>;

/** What a service's handler may do. */
export interface HandlerApi {
  readonly services: WorkflowServices;
  /** Publish an event as `from`; resolves once the broker confirmed it. */
  publish(from: string, key: string, event: WorkflowEvent): Promise<void>;
  /** Publish the order's outcome (order.confirmed / order.cancelled) as the orders service, if it is terminal. */
  publishOutcome(orderId: string): Promise<void>;
  /** A compensation finished that began when a step failed at `failedAt` (epoch ms). */
  compensated(failedAt: number): void;
}

export interface ServiceHandler {
  readonly keys: readonly string[];
  handle(api: HandlerApi, key: string, event: OrderEvent): Promise<void>;
}

/**
 * An event-driven workflow over a broker, as data: which routing key starts an order and
 * how each service reacts to the keys it is bound to. `orders` must be among the
 * services: the API publishes from its connection.
 */
export interface EventWorkflow {
  /** Short name used in queue names, e.g. `queue`. */
  readonly name: string;
  readonly startKey: string;
  readonly services: Readonly<Record<string, ServiceHandler>>;
}

/** Unacked deliveries per consumer. */
const PREFETCH = 64;
const DEPTH_POLL_MS = 100;
const epochNow = (): number => performance.timeOrigin + performance.now();

function parse(msg: ConsumeMessage): WorkflowEvent {
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

interface Pending {
  resolve(outcome: OrderOutcome): void;
  reject(err: Error): void;
  acceptedAt?: number;
}

let runCounter = 0;

/**
 * Runs an `EventWorkflow` on a broker: one AMQP endpoint (connection) per service plus
 * the client's; every consumer uses manual acks and a prefetch and acks only once its
 * own publishes are confirmed; the API publishes the start event on a confirm channel
 * (accept latency) and resolves when the client observes the order's terminal event.
 */
export class EventDrivenSystem
  implements RunningPattern, WireMetered, Drainable, Crashable, BacklogReporter, HopErrorCounter, CompensationReporter
{
  readonly transport: TransportInfo;
  private readonly pending = new Map<string, Pending>();
  private readonly compensations = new LatencyHistogram();
  private peakDepth = 0;
  private lastDrainMs: number | null = null;
  private poller: NodeJS.Timeout | undefined;
  private mgmt: Channel | undefined;
  private stopped = false;
  private readonly api: HandlerApi;

  private constructor(
    private readonly workflow: EventWorkflow,
    private readonly broker: BrokerHandle,
    private readonly topology: Topology,
    private readonly services: WorkflowServices,
    private readonly endpoints: ReadonlyMap<string, AmqpEndpoint>,
    private readonly meter: WireMeter,
    private readonly errors: Readonly<Record<string, number>>,
  ) {
    const ep = this.endpoint('orders');
    this.transport = {
      protocol: 'AMQP 0-9-1',
      encoding: 'JSON',
      broker:
        `${ep.serverProduct} ${ep.serverVersion}`.trim() +
        (broker.placement === 'worker' ? ' (embedded, worker thread)' : broker.placement === 'same-thread' ? ' (embedded, same event loop)' : ''),
      placement: 'same event loop as the load generator',
    };
    this.api = {
      services,
      publish: (from, key, event) => this.endpoint(from).publish(this.topology.exchange, key, Buffer.from(JSON.stringify(event))),
      publishOutcome: async (orderId) => {
        const outcome = this.services.orders.outcome(orderId);
        if (!outcome) return;
        await this.api.publish('orders', outcome.status === 'CONFIRMED' ? ORDER_CONFIRMED : ORDER_CANCELLED, outcome);
      },
      compensated: (failedAt) => this.compensations.recordMs(epochNow() - failedAt),
    };
  }

  static async start(ctx: PatternContext, workflow: EventWorkflow): Promise<EventDrivenSystem> {
    const ack = ctx.options.queueAck ?? 'manual';
    const broker = await openBroker(ctx.options.broker, ctx.network);
    const runId = `${process.pid.toString(36)}-${++runCounter}-${ctx.random.int(0, 2 ** 31).toString(36)}`;
    const bindings: Record<string, readonly string[]> = {};
    for (const [service, handler] of Object.entries(workflow.services)) bindings[service] = handler.keys;
    bindings.notifications = [ORDER_CONFIRMED, ORDER_CANCELLED];
    bindings.client = [ORDER_CONFIRMED, ORDER_CANCELLED];
    const topology = makeTopology(workflow.name, runId, bindings);
    const services = createServices(ctx.world);
    const meter = new WireMeter();
    const errors: Record<string, number> = {};

    // The handlers need the system, which needs the endpoints: filled in once both exist.
    const ref: { system?: EventDrivenSystem } = {};
    const endpoints = new Map<string, AmqpEndpoint>();
    for (const service of Object.keys(bindings)) {
      const consumer: ConsumerSpec = {
        queue: queueOf(topology, service),
        prefetch: PREFETCH,
        ack,
        handle: (msg) => (ref.system ? ref.system.dispatch(service, msg) : Promise.reject(new Error('not started'))),
      };
      endpoints.set(
        service,
        new AmqpEndpoint({
          name: service,
          url: await broker.urlFor(`amqp:${service}`),
          topology: (ch) => declareTopology(ch, topology),
          consumers: [consumer],
          meter,
          onError: (kind, err) => {
            if (err instanceof EndpointStoppedError) return;
            errors[`${service}:${kind}`] = (errors[`${service}:${kind}`] ?? 0) + 1;
          },
        }),
      );
    }
    try {
      // Orders first: it declares the topology before anyone consumes.
      await endpoints.get('orders')?.start();
      await Promise.all([...endpoints].filter(([name]) => name !== 'orders').map(([, e]) => e.start()));
    } catch (err) {
      await Promise.all([...endpoints.values()].map((e) => e.stop()));
      await broker.stop();
      throw err;
    }
    const system = new EventDrivenSystem(workflow, broker, topology, services, endpoints, meter, errors);
    ref.system = system;
    system.startDepthPoller();
    return system;
  }

  private endpoint(service: string): AmqpEndpoint {
    const ep = this.endpoints.get(service);
    if (!ep) throw new RangeError(`${this.workflow.name}: no service ${JSON.stringify(service)}`);
    return ep;
  }

  /** Route one delivery to its service's handler. Throwing dead-letters the message. */
  private async dispatch(service: string, msg: ConsumeMessage): Promise<void> {
    const event = parse(msg);
    const key = msg.fields.routingKey;
    if (service === 'client' || service === 'notifications') {
      if ('order' in event) throw new TypeError(`${service}: expected an outcome, got an order on ${key}`);
      if (service === 'notifications') this.services.notifications.notify(event.orderId, event.status);
      else this.observe(event.orderId, event.status, event.reason);
      return;
    }
    if (!('order' in event)) throw new TypeError(`${service}: expected an order on ${key}`);
    const handler = this.workflow.services[service];
    if (!handler) throw new RangeError(`no handler for ${service}`);
    await handler.handle(this.api, key, event);
  }

  private observe(orderId: string, status: TerminalStatus, reason: CancelReason | undefined): void {
    const waiting = this.pending.get(orderId);
    if (!waiting) return; // a duplicate, or an order placed by an earlier client
    this.pending.delete(orderId);
    const acceptedAt = waiting.acceptedAt ?? performance.now();
    waiting.resolve(reason ? { orderId, status, reason, acceptedAt } : { orderId, status, acceptedAt });
  }

  placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    if (this.stopped) return Promise.reject(new EndpointStoppedError(this.workflow.name));
    const { orders } = this.services;
    if (!orders.create(order)) return orders.whenTerminal(order.orderId);
    return new Promise<OrderOutcome>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      this.pending.set(order.orderId, pending);
      this.api.publish('orders', this.workflow.startKey, { order }).then(
        () => {
          pending.acceptedAt = performance.now();
        },
        (err: Error) => {
          this.pending.delete(order.orderId);
          reject(err);
        },
      );
    });
  }

  async snapshot(): Promise<SystemSnapshot> {
    return snapshotServices(this.services);
  }

  wireStats() {
    let messages = 0;
    for (const ep of this.endpoints.values()) {
      const c = ep.counts();
      messages += c.published + c.delivered;
    }
    return { bytes: this.meter.stats().bytes, messages };
  }

  hopErrors(): Readonly<Record<string, number>> {
    return { ...this.errors };
  }

  compensation(): LatencySummary {
    return this.compensations.summary();
  }

  /** Kill one service's broker connection abruptly (mid-batch); it reconnects and resumes. */
  async crash(service: string): Promise<void> {
    await this.endpoint(service).crash();
  }

  canCrash(service: string): boolean {
    return this.endpoints.has(service);
  }

  backlog(): Backlog {
    return { peakDepth: this.peakDepth, drainMs: this.lastDrainMs };
  }

  /** Resolves when no order is waiting, no handler runs, nothing awaits a confirm and every queue is empty. */
  async drain(timeoutMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    let quietPolls = 0;
    while (performance.now() < deadline && !this.stopped) {
      const busy = this.pending.size > 0 || [...this.endpoints.values()].some((e) => !e.idle) || (await this.depth()) > 0;
      quietPolls = busy ? 0 : quietPolls + 1;
      // Two quiet polls in a row: a message between a consumer and the broker shows in one of them.
      if (quietPolls >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    this.lastDrainMs = performance.now() - started;
  }

  private async managementChannel(): Promise<Channel> {
    if (!this.mgmt) {
      const ch = await this.endpoint('client').channel();
      ch.on('error', () => undefined);
      ch.on('close', () => {
        if (this.mgmt === ch) this.mgmt = undefined;
      });
      this.mgmt = ch;
    }
    return this.mgmt;
  }

  /** Messages ready in the consumer queues (not the dead letters); infinite while reconnecting. */
  private async depth(): Promise<number> {
    try {
      const ch = await this.managementChannel();
      let total = 0;
      for (const q of Object.keys(this.topology.queues)) total += (await ch.checkQueue(q)).messageCount;
      return total;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  /** Messages dead-lettered so far (poison messages, handler failures). */
  async deadLettered(): Promise<number> {
    const ch = await this.managementChannel();
    return (await ch.checkQueue(this.topology.deadLetterQueue)).messageCount;
  }

  private startDepthPoller(): void {
    let busy = false;
    this.poller = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.depth()
        .then((d) => {
          if (Number.isFinite(d)) this.peakDepth = Math.max(this.peakDepth, d);
        })
        .finally(() => (busy = false));
    }, DEPTH_POLL_MS);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    for (const p of this.pending.values()) p.reject(new EndpointStoppedError(this.workflow.name));
    this.pending.clear();
    try {
      const ch = await this.managementChannel();
      await deleteTopology(ch, this.topology);
      await ch.close();
    } catch {
      // Best effort: the broker may be gone; an embedded one takes its queues with it.
    }
    this.mgmt = undefined;
    await Promise.all([...this.endpoints.values()].map((e) => e.stop()));
    await this.broker.stop();
  }
}

export { epochNow };
