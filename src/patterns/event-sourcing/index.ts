import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../../event-store/index.js';
import { addressOf, type ComponentHandle, type ComponentModule } from '../../placement/component.js';
import { PlacedSystem, type ThreadUse } from '../../placement/system.js';
import { DEFAULT_PLACEMENT } from '../../placement/types.js';
import type { SystemSnapshot, World } from '../../workflow/services.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import type { WireStats } from '../../wire/meter.js';
import { placeStore, type PlacedStore } from '../placed-store.js';
import { mergeCounts } from '../service-api.js';
import { minus, wireOf } from '../synchronous.js';
import type { Backlog, BacklogReporter, Crashable, Drainable, ErrorInjectable, HopErrorCounter, OrderReader, Pattern, PatternContext, RunningPattern, ThreadReporter, TransportInfo, WireMetered } from '../types.js';
import { aggregateTypes, type AggregateTypes } from './aggregates.js';
import { createCqrsClient, type CqrsClient } from './client.js';
import {
  startCommandHandler,
  startProcessor,
  startProjection,
  type CommandHandlerApi,
  type CommandHandlerInit,
  type ComponentSettings,
  type ProcessorApi,
  type ProcessorInit,
  type ProcessorService,
  type ProjectionApi,
  type ProjectionInit,
} from './components.js';
import type { OrderView } from './read-model.js';
import type { ProjectionStats, ProjectionStatsReporter } from './stats.js';
import { snapshotFromLog } from './system-snapshot.js';
import { orderStateAt, type OrderAt } from './temporal.js';

export { isProjectionStatsReporter, type ProjectionStats, type ProjectionStatsReporter } from './stats.js';
export { orderStateAt, type OrderAt } from './temporal.js';
export { OrdersReadModel, type OrderView } from './read-model.js';
export { OrdersProjection } from './projection.js';

/** Tuning of the event-sourcing pattern. Defaults in ES_DEFAULTS. */
export interface EventSourcingSettings extends ComponentSettings {
  /** Client → command handler and → read model pools. */
  readonly clientConnections: number;
  readonly connectTimeoutMs: number;
  readonly clientTimeoutMs: number;
}

export const ES_DEFAULTS: EventSourcingSettings = {
  snapshotEvery: 50,
  processorConcurrency: 32,
  checkpointEvery: 32,
  restartDelayMs: 0,
  projectionDelayMs: 0,
  clientConnections: 64,
  connectTimeoutMs: 1000,
  clientTimeoutMs: 10_000,
};

/** The services that can be crashed on purpose (Crashable). */
export const ES_SERVICES = ['projection', 'inventory', 'payments', 'notifications'] as const;
export type EsService = (typeof ES_SERVICES)[number];

/** The read side in words: the query server over the read model, eventually consistent. */
export const ES_READ_PATH = 'CQRS read model over HTTP: GET /customers/:id/orders (eventually consistent)';

const PROCESSORS: readonly ProcessorService[] = ['payments', 'inventory', 'notifications'];
const DRAIN_POLL_MS = 10;
const BACKLOG_POLL_MS = 100;

const COMMAND_HANDLER: ComponentModule<CommandHandlerInit, CommandHandlerApi> = { url: new URL('./components.js', import.meta.url), exportName: 'startCommandHandler', factory: startCommandHandler };
const PROCESSOR: ComponentModule<ProcessorInit, ProcessorApi> = { url: new URL('./components.js', import.meta.url), exportName: 'startProcessor', factory: startProcessor };
const PROJECTION: ComponentModule<ProjectionInit, ProjectionApi> = { url: new URL('./components.js', import.meta.url), exportName: 'startProjection', factory: startProjection };

interface Parts {
  readonly orders: ComponentHandle<CommandHandlerApi>;
  readonly processors: ReadonlyMap<ProcessorService, ComponentHandle<ProcessorApi>>;
  readonly projection: ComponentHandle<ProjectionApi>;
}

/**
 * Event sourcing with CQRS, every part a component reached over a socket. The client
 * sends PlaceOrder over HTTP to the orders command handler, which appends OrderCreated to
 * the order's stream (202 = accepted). Payments, inventory and notifications are
 * processors subscribed to the log, each on its own store connection: they decide on their
 * own aggregates (a stream per customer account, a stream per SKU) with optimistic
 * concurrency and record their answers on the order. The projection builds the orders
 * read model and serves it over HTTP. The client's order completes when the log has its
 * terminal event, which the command side answers (OrderOutcomes); a read of the read model
 * right after may still lag (read-your-writes, issue #16).
 */
export class EventSourcingSystem implements RunningPattern, OrderReader, WireMetered, Drainable, Crashable, ErrorInjectable, HopErrorCounter, BacklogReporter, ProjectionStatsReporter, ThreadReporter {
  readonly transport: TransportInfo;
  readonly readPath = ES_READ_PATH;
  readonly types: AggregateTypes;
  private lastDrainMs: number | null = null;
  private peakBacklog = 0;
  private stopped = false;
  private poller: NodeJS.Timeout | undefined;
  private base: WireStats = { bytes: 0, messages: 0 };
  private inFlight = 0;

  private constructor(
    private readonly system: PlacedSystem,
    private readonly placed: PlacedStore,
    private readonly world: World,
    private readonly parts: Parts,
    private readonly client: CqrsClient,
  ) {
    this.types = aggregateTypes(world);
    this.transport = {
      protocol: `HTTP/1.1 commands and queries + ${placed.kind === 'memory' ? 'embedded event store over TCP' : 'PostgreSQL event store'}`,
      encoding: 'JSON',
      broker: null,
      placement: system.placement,
      ...(placed.kind === 'postgres'
        ? { notes: ['the event store is PostgreSQL, an external process: it is not placed, and its CPU and its wire traffic are not counted'], wireExcludes: 'PostgreSQL' }
        : {}),
    };
  }

  static async start(ctx: PatternContext, settings: EventSourcingSettings = ES_DEFAULTS): Promise<EventSourcingSystem> {
    const placement = ctx.options.placement ?? DEFAULT_PLACEMENT;
    const system = PlacedSystem.open({ placement, network: ctx.network, random: ctx.random.fork(), ...(ctx.threads ? { threads: ctx.threads } : {}) });
    let placed: PlacedStore | undefined;
    let client: CqrsClient | undefined;
    try {
      placed = await placeStore(system, ctx, 'es-store');
      const store = placed;
      const seed = () => ctx.random.int(0, 2 ** 31);
      const orders = await system.start('orders', COMMAND_HANDLER, { store: await store.specFor('orders'), settings, seed: seed() });
      const processors = new Map<ProcessorService, ComponentHandle<ProcessorApi>>();
      for (const service of PROCESSORS) {
        processors.set(service, await system.start(service, PROCESSOR, { service, store: await store.specFor(service), world: ctx.world, settings, seed: seed() }));
      }
      const projection = await system.start('projection', PROJECTION, { store: await store.specFor('projection'), settings });
      client = createCqrsClient(await ctx.network.route('es:orders', addressOf(orders, 'http')), await ctx.network.route('es:read-model', addressOf(projection, 'http')), {
        connections: settings.clientConnections,
        connectTimeoutMs: settings.connectTimeoutMs,
        timeoutMs: settings.clientTimeoutMs,
      });
      const running = new EventSourcingSystem(system, store, ctx.world, { orders, processors, projection }, client);
      running.base = await running.wireNow();
      running.startBacklogPoller();
      return running;
    } catch (err) {
      await client?.close();
      await system.stop();
      await placed?.close();
      throw err;
    }
  }

  /** The main thread's own connection to the log (not routed through the run's faults). */
  get store(): EventStore {
    return this.placed.main;
  }

  // --- RunningPattern ---------------------------------------------------------------

  async placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    this.inFlight++;
    try {
      return await this.client.placeOrder(order);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * The customer's orders from the query side, over the client's pool to the read model
   * (routed through the run's network like every read of the outcome): what the
   * projection has applied so far, so an order may be missing or behind the log.
   */
  customerOrders(customerId: string): Promise<readonly OrderRecord[]> {
    return this.client.customerOrders(customerId);
  }

  /** The system's state, folded from the log (the truth), not from the read model. */
  async snapshot(): Promise<SystemSnapshot> {
    const { orders, projection } = this.parts;
    const [commandDuplicates, readDuplicates, inventory, payments, notifications] = await Promise.all([
      orders.call('duplicates'),
      projection.call('duplicates'),
      this.processor('inventory').call('duplicates'),
      this.processor('payments').call('duplicates'),
      this.processor('notifications').call('snapshot'),
    ]);
    if (!notifications.notifications) throw new Error('the notifications processor reported no state');
    return snapshotFromLog(this.store, this.world, { orders: commandDuplicates + readDuplicates, inventory, payments }, notifications.notifications);
  }

  /** Temporal query: the order as it stood at `time` (ms since the epoch). */
  stateAt(orderId: string, time: number): Promise<OrderAt | undefined> {
    return orderStateAt(this.store, orderId, time);
  }

  /** The read model's rows, sorted by orderId. */
  readModelRows(): Promise<OrderView[]> {
    return this.parts.projection.call('rows');
  }

  // --- optional abilities -----------------------------------------------------------

  private handles(): ComponentHandle<CommandHandlerApi | ProcessorApi | ProjectionApi>[] {
    return [this.parts.orders, ...this.parts.processors.values(), this.parts.projection];
  }

  private wireNow(): Promise<WireStats> {
    return wireOf([...this.handles(), this.placed]);
  }

  /**
   * Bytes and messages at the server end of every hop: HTTP requests and responses of the
   * command and query sides, and every frame of the embedded store's connections (requests,
   * responses, events pushed to each subscriber). With PostgreSQL the store's traffic is not
   * metered, and the transport says so (`wireExcludes`).
   */
  async wireStats(): Promise<WireStats> {
    return minus(await this.wireNow(), this.base);
  }

  async hopErrors(): Promise<Readonly<Record<string, number>>> {
    const [processors, projection] = await Promise.all([Promise.all([...this.parts.processors.values()].map((p) => p.call('hopErrors'))), this.parts.projection.call('hopErrors')]);
    return mergeCounts([...processors, projection]);
  }

  async backlog(): Promise<Backlog> {
    return { peakDepth: this.peakBacklog, drainMs: this.lastDrainMs };
  }

  async projectionStats(): Promise<ProjectionStats> {
    const { orders, projection } = this.parts;
    const counters = await Promise.all([orders.call('counters'), ...[...this.parts.processors.values()].map((p) => p.call('counters'))]);
    const sum = (k: keyof (typeof counters)[number]) => counters.reduce((n, c) => n + c[k], 0);
    const [lag, size, restarts, duplicates, processorRestarts] = await Promise.all([
      projection.call('lag'),
      projection.call('size'),
      projection.call('restarts'),
      projection.call('duplicates'),
      this.processorRestarts(),
    ]);
    const per1000 = (n: number) => (size > 0 ? (n * 1000) / size : null);
    return {
      eventStore: this.placed.kind,
      projectionLagMs: lag,
      orders: size,
      conflicts: sum('conflicts'),
      retries: sum('retries'),
      conflictsPer1000Orders: per1000(sum('conflicts')),
      retriesPer1000Orders: per1000(sum('retries')),
      conflictRetriesExhausted: sum('exhausted'),
      eventsAppended: sum('appended'),
      snapshotsSaved: sum('snapshots'),
      projectionRestarts: restarts,
      projectionDuplicates: duplicates,
      processorRestarts,
    };
  }

  /** Times each processor resubscribed from its checkpoint (crash or lost subscription), by service. */
  async processorRestarts(): Promise<Record<ProcessorService, number>> {
    const [payments, inventory, notifications] = await Promise.all([
      this.processor('payments').call('restarts'),
      this.processor('inventory').call('restarts'),
      this.processor('notifications').call('restarts'),
    ]);
    return { payments, inventory, notifications };
  }

  threads(): readonly ThreadUse[] {
    return this.system.threads();
  }

  canCrash(service: string): boolean {
    return (ES_SERVICES as readonly string[]).includes(service);
  }

  canInjectErrors(service: string): boolean {
    return this.parts.processors.has(service as ProcessorService);
  }

  async injectErrors(service: string, share: number): Promise<void> {
    await this.processor(service as ProcessorService).call('errors', share);
  }

  /** Kills one subscriber abruptly (mid-batch); it resumes from its checkpoint and redoes unfinished work. */
  async crash(service: string, downMs?: number): Promise<void> {
    if (service === 'projection') return this.parts.projection.call('crash', downMs);
    if (!this.canCrash(service)) throw new RangeError(`event-sourcing: no service ${JSON.stringify(service)} (known: ${ES_SERVICES.join(', ')})`);
    return this.processor(service as ProcessorService).call('crash', downMs);
  }

  private processor(service: ProcessorService): ComponentHandle<ProcessorApi> {
    const p = this.parts.processors.get(service);
    if (!p) throw new RangeError(`event-sourcing: no processor ${service}`);
    return p;
  }

  /** Events the slowest subscriber is behind the head of the log. */
  private async behind(): Promise<number> {
    const [head, projection, ...checkpoints] = await Promise.all([
      this.store.head(),
      this.parts.projection.call('position'),
      ...[...this.parts.processors.values()].map((p) => p.call('checkpoint')),
    ]);
    const behind = Math.max(0, head - Math.min(projection, ...checkpoints));
    this.peakBacklog = Math.max(this.peakBacklog, behind);
    return behind;
  }

  private async caughtUp(): Promise<boolean> {
    const idle = await Promise.all([...this.parts.processors.values()].map((p) => p.call('idle')));
    return idle.every(Boolean) && (await this.behind()) === 0;
  }

  private startBacklogPoller(): void {
    let busy = false;
    this.poller = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      void this.behind()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, BACKLOG_POLL_MS);
  }

  /** Resolves when no order is in flight and every subscriber is idle at the head of the log. */
  async drain(timeoutMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    let quiet = 0;
    while (!this.stopped && performance.now() < deadline) {
      let busy = this.inFlight > 0;
      if (!busy) busy = !(await this.caughtUp().catch(() => false));
      quiet = busy ? 0 : quiet + 1;
      // Twice in a row: a subscriber that appended right after another was checked shows in the second look.
      if (quiet >= 2) break;
      await sleep(DRAIN_POLL_MS);
    }
    this.lastDrainMs = performance.now() - started;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    await this.client.close();
    await this.system.stop();
    await this.placed.close();
  }
}

/** The event-sourcing pattern with other settings (tests use small snapshots and high concurrency). */
export function createEventSourcingPattern(overrides: Partial<EventSourcingSettings> = {}): Pattern {
  const settings: EventSourcingSettings = { ...ES_DEFAULTS, ...overrides };
  return {
    id: 'event-sourcing',
    title: 'Event sourcing + CQRS',
    readPath: ES_READ_PATH,
    summary: 'Commands append to aggregate streams with optimistic concurrency; processors subscribe to the log; a projection builds the read model.',
    tradeOffs: {
      pros: [
        'The log is the truth: every state can be rebuilt, audited and queried as of any past time',
        'Accepting a command is one append; the work behind it happens asynchronously',
        'New read models and processors can be added later and replayed from the start',
      ],
      cons: [
        'Reads are eventually consistent: the read model lags the log (projection lag)',
        'Hot aggregates conflict under load: commands are re-read and retried',
        'Event schemas are forever: versioning, snapshots and replays need care',
      ],
      whenToUse: 'Domains that need an audit trail or temporal queries, and reads that differ a lot from writes.',
    },
    uses: ['event-store'],
    start: (ctx) => EventSourcingSystem.start(ctx, settings),
  };
}

/** Event sourcing with CQRS over the run's event store (memory or PostgreSQL). */
export const eventSourcingPattern: Pattern = createEventSourcingPattern();
