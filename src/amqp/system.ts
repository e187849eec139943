import { performance } from 'node:perf_hooks';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { LatencySummary } from '../metrics/histogram.js';
import { routeUrl } from '../net/route-url.js';
import { addressOf, type ComponentHandle, type ComponentModule } from '../placement/component.js';
import { PlacedSystem, type ThreadUse } from '../placement/system.js';
import { DEFAULT_PLACEMENT } from '../placement/types.js';
import { mergeCounts, mergeSnapshots } from '../patterns/service-api.js';
import { minus, wireOf } from '../patterns/synchronous.js';
import type {
  Backlog,
  BacklogReporter,
  CompensationReporter,
  Crashable,
  Drainable,
  ErrorInjectable,
  HopErrorCounter,
  OrderReader,
  PatternContext,
  RunningPattern,
  ThreadReporter,
  TransportInfo,
  WireMetered,
} from '../patterns/types.js';
import type { OrderRecord } from '../workflow/orders.js';
import type { SystemSnapshot } from '../workflow/services.js';
import type { CancelReason, OrderOutcome, OrderRequest, TerminalStatus } from '../workflow/types.js';
import { WireMeter, type WireStats } from '../wire/meter.js';
import { startEmbeddedBroker } from './broker-component.js';
import { CustomerOrdersClient, READ_PATH } from './customer-orders.js';
import { AmqpEndpoint, EndpointStoppedError } from './endpoint.js';
import { encodeEvent, parseEvent, PLACE_ORDER, type EventWorkflow, type WorkflowRef } from './events.js';
import { bindingsOf, startEventService, type EventService, type EventServiceApi, type EventServiceInit } from './service.js';
import { declareTopology, deleteTopology, makeTopology, queueOf, type Topology } from './topology.js';

/** Unacked deliveries per consumer. */
const PREFETCH = 64;
const DEPTH_POLL_MS = 100;
const SERVICES: readonly EventService[] = ['orders', 'inventory', 'payments', 'notifications'];

export const EVENT_SERVICE: ComponentModule<EventServiceInit, EventServiceApi> = {
  url: new URL('./service.js', import.meta.url),
  exportName: 'startEventService',
  factory: startEventService,
};

export const EMBEDDED_BROKER: ComponentModule<Record<never, never>, { info(): { product: string; version: string } }> = {
  url: new URL('./broker-component.js', import.meta.url),
  exportName: 'startEmbeddedBroker',
  factory: startEmbeddedBroker,
};

interface Pending {
  resolve(outcome: OrderOutcome): void;
  reject(err: Error): void;
  acceptedAt?: number;
}

let runCounter = 0;

/**
 * Runs an `EventWorkflow` on a broker: the embedded one (a component, placed like the
 * services) or the run's RabbitMQ. Each service is a component with its own AMQP
 * connection; the client — on the load generator's thread — sends the place-order
 * command on a confirm channel (accept latency: the broker has it) and resolves when it
 * observes the order's terminal event.
 */
export class EventDrivenSystem
  implements RunningPattern, OrderReader, WireMetered, Drainable, Crashable, ErrorInjectable, BacklogReporter, HopErrorCounter, CompensationReporter, ThreadReporter
{
  readonly transport: TransportInfo;
  readonly readPath = READ_PATH;
  private readonly reader: CustomerOrdersClient;
  private readonly pending = new Map<string, Pending>();
  private readonly clientErrors: Record<string, number> = {};
  private peakDepth = 0;
  private lastDrainMs: number | null = null;
  private poller: NodeJS.Timeout | undefined;
  private mgmt: Channel | undefined;
  private stopped = false;
  private base: WireStats = { bytes: 0, messages: 0 };

  private constructor(
    private readonly workflow: EventWorkflow,
    private readonly system: PlacedSystem,
    private readonly topology: Topology,
    private readonly client: AmqpEndpoint,
    private readonly clientMeter: WireMeter,
    private readonly services: ReadonlyMap<EventService, ComponentHandle<EventServiceApi>>,
    embedded: boolean,
  ) {
    this.transport = {
      protocol: 'AMQP 0-9-1',
      encoding: 'JSON',
      broker: `${client.serverProduct} ${client.serverVersion}`.trim() + (embedded ? ' (embedded)' : ''),
      placement: system.placement,
      ...(embedded ? {} : { notes: ['the broker is an external process (--broker): it is not placed, and its CPU is not counted'] }),
    };
    // The read goes over the client's own connection (placeOrder's), so its hop, faults and meter are placeOrder's too.
    this.reader = new CustomerOrdersClient({ channel: () => client.channel(), exchange: topology.exchange, meter: clientMeter });
  }

  static async start(ctx: PatternContext, workflow: EventWorkflow, ref: WorkflowRef): Promise<EventDrivenSystem> {
    const placement = ctx.options.placement ?? DEFAULT_PLACEMENT;
    const system = PlacedSystem.open({ placement, network: ctx.network, random: ctx.random.fork(), ...(ctx.threads ? { threads: ctx.threads } : {}) });
    const runId = `${process.pid.toString(36)}-${++runCounter}-${ctx.random.int(0, 2 ** 31).toString(36)}`;
    const topology = makeTopology(workflow.name, runId, bindingsOf(workflow));
    const parts: { client?: AmqpEndpoint } = {};
    try {
      const embedded = ctx.options.broker === 'embedded';
      const brokerUrl = embedded ? await startBroker(system) : ctx.options.broker;
      const services = new Map<EventService, ComponentHandle<EventServiceApi>>();
      const ack = ctx.options.queueAck ?? 'manual';
      for (const service of SERVICES) {
        const url = await routeUrl(ctx.network, `amqp:${service}`, brokerUrl, 5672);
        services.set(service, await system.start(service, EVENT_SERVICE, { workflow: ref, service, url, topology, ack, prefetch: PREFETCH, world: ctx.world }));
      }
      return await EventDrivenSystem.connect(workflow, system, topology, await routeUrl(ctx.network, 'amqp:client', brokerUrl, 5672), services, embedded, parts);
    } catch (err) {
      await parts.client?.stop();
      await system.stop();
      throw err;
    }
  }

  private static async connect(
    workflow: EventWorkflow,
    system: PlacedSystem,
    topology: Topology,
    url: string,
    services: ReadonlyMap<EventService, ComponentHandle<EventServiceApi>>,
    embedded: boolean,
    parts: { client?: AmqpEndpoint },
  ): Promise<EventDrivenSystem> {
    const ref: { system?: EventDrivenSystem } = {};
    const meter = new WireMeter();
    const client = new AmqpEndpoint({
      name: 'client',
      url,
      topology: (ch) => declareTopology(ch, topology),
      consumers: [{ queue: queueOf(topology, 'client'), prefetch: PREFETCH, ack: 'manual', handle: async (msg) => ref.system?.observe(msg) }],
      meter,
      onError: (kind, err) => {
        if (err instanceof EndpointStoppedError || !ref.system) return;
        ref.system.clientErrors[`client:${kind}`] = (ref.system.clientErrors[`client:${kind}`] ?? 0) + 1;
      },
    });
    parts.client = client;
    await client.start();
    const running = new EventDrivenSystem(workflow, system, topology, client, meter, services, embedded);
    ref.system = running;
    running.base = await running.wireNow();
    running.startDepthPoller();
    return running;
  }

  private observe(msg: ConsumeMessage): void {
    this.clientMeter.countMessages(1);
    const event = parseEvent(msg);
    if ('order' in event) throw new TypeError(`client: expected an outcome, got an order on ${msg.fields.routingKey}`);
    this.settle(event.orderId, event.status, event.reason);
  }

  private settle(orderId: string, status: TerminalStatus, reason: CancelReason | undefined): void {
    const waiting = this.pending.get(orderId);
    if (!waiting) return; // a duplicate, or an order placed by an earlier client
    this.pending.delete(orderId);
    const acceptedAt = waiting.acceptedAt ?? performance.now();
    waiting.resolve(reason ? { orderId, status, reason, acceptedAt } : { orderId, status, acceptedAt });
  }

  placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    if (this.stopped) return Promise.reject(new EndpointStoppedError(this.workflow.name));
    const waiting = this.pending.get(order.orderId);
    // The same order placed again while in flight: it gets the first one's outcome.
    if (waiting) return new Promise((resolve, reject) => this.joined(order.orderId, waiting, resolve, reject));
    return new Promise<OrderOutcome>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      this.pending.set(order.orderId, pending);
      this.clientMeter.countMessages(1);
      this.client.publish(this.topology.exchange, PLACE_ORDER, encodeEvent({ order })).then(
        () => {
          pending.acceptedAt ??= performance.now();
        },
        (err: Error) => {
          if (this.pending.get(order.orderId) === pending) this.pending.delete(order.orderId);
          reject(err);
        },
      );
    });
  }

  private joined(orderId: string, first: Pending, resolve: (o: OrderOutcome) => void, reject: (e: Error) => void): void {
    const prev = { resolve: first.resolve, reject: first.reject };
    first.resolve = (o) => {
      prev.resolve(o);
      resolve(o);
    };
    first.reject = (e) => {
      prev.reject(e);
      reject(e);
    };
    this.pending.set(orderId, first);
  }

  /** The customer's orders, asked of the orders service wherever it runs: a request through the broker, the reply on direct reply-to. */
  customerOrders(customerId: string): Promise<readonly OrderRecord[]> {
    if (this.stopped) return Promise.reject(new EndpointStoppedError(this.workflow.name));
    return this.reader.customerOrders(customerId);
  }

  async snapshot(): Promise<SystemSnapshot> {
    return mergeSnapshots(await Promise.all([...this.services.values()].map((s) => s.call('snapshot'))));
  }

  private async wireNow(): Promise<WireStats> {
    const services = await wireOf([...this.services.values()]);
    const client = this.clientMeter.stats();
    return { bytes: services.bytes + client.bytes, messages: services.messages + client.messages };
  }

  async wireStats(): Promise<WireStats> {
    return minus(await this.wireNow(), this.base);
  }

  async hopErrors(): Promise<Readonly<Record<string, number>>> {
    return mergeCounts([this.clientErrors, ...(await Promise.all([...this.services.values()].map((s) => s.call('hopErrors'))))]);
  }

  compensation(): Promise<LatencySummary> {
    return this.service('orders').call('compensation');
  }

  /** Kill one service's broker connection abruptly (mid-batch); it reconnects and resumes. */
  async crash(service: string, downMs = 0): Promise<void> {
    await this.service(service).call('crash', downMs);
  }

  canCrash(service: string): boolean {
    return this.services.has(service as EventService);
  }

  canInjectErrors(service: string): boolean {
    return this.services.has(service as EventService);
  }

  async injectErrors(service: string, share: number): Promise<void> {
    await this.service(service).call('errors', share);
  }

  threads(): readonly ThreadUse[] {
    return this.system.threads();
  }

  async backlog(): Promise<Backlog> {
    return { peakDepth: this.peakDepth, drainMs: this.lastDrainMs };
  }

  private service(name: string): ComponentHandle<EventServiceApi> {
    const handle = this.services.get(name as EventService);
    if (!handle) throw new RangeError(`${this.workflow.name}: no service ${JSON.stringify(name)}`);
    return handle;
  }

  /** Resolves when no order is waiting, no handler runs, nothing awaits a confirm and every queue is empty. */
  async drain(timeoutMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    let quietPolls = 0;
    while (performance.now() < deadline && !this.stopped) {
      const busy = this.pending.size > 0 || !this.client.idle || !(await this.servicesIdle()) || (await this.depth()) > 0;
      quietPolls = busy ? 0 : quietPolls + 1;
      // Two quiet polls in a row: a message between a consumer and the broker shows in one of them.
      if (quietPolls >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    this.lastDrainMs = performance.now() - started;
  }

  private async servicesIdle(): Promise<boolean> {
    const idle = await Promise.all([...this.services.values()].map((s) => s.call('idle').catch(() => false)));
    return idle.every(Boolean);
  }

  private async managementChannel(): Promise<Channel> {
    if (!this.mgmt) {
      const ch = await this.client.channel();
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
    await this.reader.stop();
    await this.client.stop();
    await this.system.stop();
  }
}

/** Start the embedded broker as a component; its URL (unrouted). */
async function startBroker(system: PlacedSystem): Promise<string> {
  const broker = await system.start('broker', EMBEDDED_BROKER, {});
  const at = addressOf(broker, 'amqp');
  return `amqp://guest:guest@${at.host}:${at.port}`;
}
