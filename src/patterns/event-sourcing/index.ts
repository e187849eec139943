import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEventStore, type EventStore } from '../../event-store/index.js';
import { parsePostgresUrl } from '../../event-store/postgres.js';
import { EventStoreClosedError } from '../../event-store/errors.js';
import { OrderFailedError } from '../../errors.js';
import { NotificationsService } from '../../workflow/notifications.js';
import type { SystemSnapshot, World } from '../../workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import { WireMeter } from '../../wire/meter.js';
import type { Address, Backlog, BacklogReporter, Crashable, Drainable, HopErrorCounter, Network, Pattern, PatternContext, RunningPattern, TransportInfo, WireMetered } from '../types.js';
import { aggregateTypes, type AggregateTypes } from './aggregates.js';
import { AppendClock } from './append-clock.js';
import { createCommandClient, type CommandClient } from './client.js';
import { startCommandServer, type CommandServer } from './command-server.js';
import { inventoryHandler, type DuplicateCounter } from './inventory-processor.js';
import { notificationsHandler } from './notifications-processor.js';
import { paymentsHandler } from './payments-processor.js';
import { Processor } from './processor.js';
import { OrdersProjection } from './projection.js';
import { OrdersReadModel, type OrderView } from './read-model.js';
import { Repository } from './repository.js';
import type { ProjectionStats, ProjectionStatsReporter } from './stats.js';
import { snapshotFromLog } from './system-snapshot.js';
import { orderStateAt, type OrderAt } from './temporal.js';

export { isProjectionStatsReporter, type ProjectionStats, type ProjectionStatsReporter } from './stats.js';
export { orderStateAt, type OrderAt } from './temporal.js';
export { OrdersReadModel, type OrderView } from './read-model.js';
export { OrdersProjection } from './projection.js';

/** Tuning of the event-sourcing pattern. Defaults in ES_DEFAULTS. */
export interface EventSourcingSettings {
  /** Snapshot an aggregate every this many events (0: never). */
  readonly snapshotEvery: number;
  /** Tasks each processor (inventory, payments) runs at once. */
  readonly processorConcurrency: number;
  /** The projection saves its checkpoint every this many events. */
  readonly checkpointEvery: number;
  /** How long a crashed projection or processor stays down before it resumes from its checkpoint, ms. */
  readonly restartDelayMs: number;
  /** Client → command handler pool. */
  readonly clientConnections: number;
  readonly connectTimeoutMs: number;
  readonly clientTimeoutMs: number;
}

export const ES_DEFAULTS: EventSourcingSettings = {
  snapshotEvery: 50,
  processorConcurrency: 32,
  checkpointEvery: 32,
  restartDelayMs: 0,
  clientConnections: 64,
  connectTimeoutMs: 1000,
  clientTimeoutMs: 10_000,
};

/** The services that can be crashed on purpose (Crashable). */
export const ES_SERVICES = ['projection', 'inventory', 'payments', 'notifications'] as const;
export type EsService = (typeof ES_SERVICES)[number];

const DRAIN_POLL_MS = 10;
const BACKLOG_POLL_MS = 100;
const BACKLOG_SAMPLE = 1000;

interface Waiter {
  resolve(outcome: OrderOutcome): void;
  reject(err: Error): void;
  acceptedAt?: number;
  view?: OrderView;
}

/** Opens the store named by `--event-store`, dialling PostgreSQL through the run's network (hop `es:store`). */
export async function openRoutedStore(spec: string, network: Network): Promise<EventStore> {
  if (spec === 'memory') return openEventStore(spec);
  const url = parsePostgresUrl('--event-store', spec);
  const target = await network.route('es:store', { host: url.hostname, port: Number(url.port || 5432) });
  const routed = new URL(url.href);
  routed.hostname = target.host;
  routed.port = String(target.port);
  // No schema given: the store creates a fresh temporary schema per run and drops it at close().
  return openEventStore(routed.href);
}

/**
 * Event sourcing with CQRS. The client sends PlaceOrder over HTTP to the orders command
 * handler, which appends OrderCreated to the order's stream (202 = accepted). Inventory
 * and payments are processors subscribed to the log: they decide on their own aggregates
 * (a stream per SKU, a stream per customer account) with optimistic concurrency and record
 * their answers on the order. A projection builds the orders read model; the client's
 * order completes when the read model shows it terminal.
 */
export class EventSourcingSystem implements RunningPattern, WireMetered, Drainable, Crashable, HopErrorCounter, BacklogReporter, ProjectionStatsReporter {
  readonly transport: TransportInfo;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly errors: Record<string, number> = {};
  private delivered = 0;
  private lastDrainMs: number | null = null;
  private peakBacklog = 0;
  private stopped = false;
  private poller: NodeJS.Timeout | undefined;

  private constructor(
    readonly store: EventStore,
    private readonly world: World,
    private readonly repo: Repository,
    readonly types: AggregateTypes,
    readonly readModel: OrdersReadModel,
    readonly projection: OrdersProjection,
    private readonly processors: Readonly<Record<'inventory' | 'payments' | 'notifications', Processor>>,
    private readonly duplicates: { inventory: DuplicateCounter; payments: DuplicateCounter },
    private readonly notifications: NotificationsService,
    private readonly server: CommandServer,
    private readonly client: CommandClient,
    private readonly meter: WireMeter,
  ) {
    this.transport = {
      protocol: `HTTP/1.1 commands + ${store.kind === 'memory' ? 'in-process' : 'PostgreSQL'} event store`,
      encoding: 'JSON',
      broker: null,
      placement: 'same event loop as the load generator',
    };
  }

  static async start(ctx: PatternContext, settings: EventSourcingSettings = ES_DEFAULTS): Promise<EventSourcingSystem> {
    const store = await openRoutedStore(ctx.options.eventStore, ctx.network);
    const cleanup: (() => Promise<void>)[] = [() => store.close()];
    try {
      const clock = new AppendClock();
      const repo = new Repository(store, {
        snapshotEvery: settings.snapshotEvery,
        random: ctx.random.fork(),
        beforeAppend: (stream, first, count) => clock.mark(stream, first, count),
      });
      const types = aggregateTypes(ctx.world);
      // The subscribers report to the system, which exists once they all do.
      const ref: { system?: EventSourcingSystem } = {};
      const readModel = new OrdersReadModel((view) => ref.system?.onTerminal(view));
      const count = () => {
        if (ref.system) ref.system.delivered++;
      };
      const onError = (service: string) => (kind: string) => ref.system?.countError(`${service}:${kind}`);
      const projection = new OrdersProjection(store, readModel, { checkpointEvery: settings.checkpointEvery, restartDelayMs: settings.restartDelayMs, clock, onError: onError('projection'), onDelivered: count });
      const duplicates = { inventory: { duplicates: 0 }, payments: { duplicates: 0 } };
      const notifications = new NotificationsService();
      const processor = (name: string, handler: ConstructorParameters<typeof Processor>[1]) =>
        new Processor(store, handler, { name, concurrency: settings.processorConcurrency, restartDelayMs: settings.restartDelayMs, onError: onError(name), onDelivered: count });
      const processors = {
        inventory: processor('inventory', inventoryHandler(repo, types, duplicates.inventory)),
        payments: processor('payments', paymentsHandler(repo, types, duplicates.payments)),
        notifications: processor('notifications', notificationsHandler(notifications)),
      };
      const meter = new WireMeter();
      const server = await startCommandServer(repo, readModel, meter);
      cleanup.unshift(() => server.close());
      const client = createCommandClient(await ctx.network.route('es:orders', server.address), {
        connections: settings.clientConnections,
        connectTimeoutMs: settings.connectTimeoutMs,
        timeoutMs: settings.clientTimeoutMs,
      });
      const system = new EventSourcingSystem(store, ctx.world, repo, types, readModel, projection, processors, duplicates, notifications, server, client, meter);
      ref.system = system;
      projection.start();
      for (const p of Object.values(processors)) p.start();
      system.startBacklogPoller();
      return system;
    } catch (err) {
      for (const close of cleanup) await close().catch(() => undefined);
      throw err;
    }
  }

  // --- RunningPattern ---------------------------------------------------------------

  placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    if (this.stopped) return Promise.reject(new EventStoreClosedError(this.store.kind));
    return new Promise<OrderOutcome>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const list = this.waiters.get(order.orderId);
      if (list) list.push(waiter);
      else this.waiters.set(order.orderId, [waiter]);
      this.client.place(order).then(
        (acceptedAt) => {
          waiter.acceptedAt = acceptedAt;
          // A retried order may be terminal already: its row is in the read model.
          const view = waiter.view ?? this.readModel.get(order.orderId);
          if (view && (view.status === 'CONFIRMED' || view.status === 'CANCELLED')) this.settle(order.orderId, waiter, view);
        },
        (err: unknown) => {
          this.forget(order.orderId, waiter);
          reject(err instanceof Error ? err : new OrderFailedError(order.orderId, 'command', String(err)));
        },
      );
    });
  }

  /** The read model shows an order terminal: complete its waiters (once their command was accepted). */
  private onTerminal(view: OrderView): void {
    const list = this.waiters.get(view.orderId);
    if (!list) return;
    for (const waiter of [...list]) {
      if (waiter.acceptedAt === undefined) waiter.view = view; // the 202 is still on its way
      else this.settle(view.orderId, waiter, view);
    }
  }

  private settle(orderId: string, waiter: Waiter, view: OrderView): void {
    this.forget(orderId, waiter);
    const acceptedAt = waiter.acceptedAt ?? performance.now();
    const status = view.status === 'CONFIRMED' ? 'CONFIRMED' : 'CANCELLED';
    waiter.resolve(view.reason ? { orderId, status, reason: view.reason, acceptedAt } : { orderId, status, acceptedAt });
  }

  private forget(orderId: string, waiter: Waiter): void {
    const list = this.waiters.get(orderId);
    if (!list) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiters.delete(orderId);
  }

  /** The system's state, folded from the log (the truth), not from the read model. */
  snapshot(): Promise<SystemSnapshot> {
    return snapshotFromLog(
      this.store,
      this.world,
      {
        orders: this.server.duplicates() + this.readModel.duplicatesAbsorbed,
        inventory: this.duplicates.inventory.duplicates,
        payments: this.duplicates.payments.duplicates,
      },
      this.notifications.snapshot(),
    );
  }

  /** Where the orders command handler listens (POST /orders, GET /orders/<id>). */
  get commandAddress(): Address {
    return this.server.address;
  }

  /** Temporal query: the order as it stood at `time` (ms since the epoch). */
  stateAt(orderId: string, time: number): Promise<OrderAt | undefined> {
    return orderStateAt(this.store, orderId, time);
  }

  // --- optional abilities -----------------------------------------------------------

  /**
   * Bytes: the HTTP command hop, counted at the server (events in the memory store cross
   * no socket; PostgreSQL's traffic is not metered). Messages: HTTP requests and responses,
   * events appended, and events delivered to each subscriber (projection, processors).
   */
  wireStats() {
    return { bytes: this.meter.stats().bytes, messages: this.meter.stats().messages + this.repo.counters.appended + this.delivered };
  }

  hopErrors(): Readonly<Record<string, number>> {
    return { ...this.errors };
  }

  private countError(key: string): void {
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  /** Peak backlog: the most events the slowest subscriber was behind the head (sampled every 100 ms, capped at 1,000). */
  backlog(): Backlog {
    return { peakDepth: this.peakBacklog, drainMs: this.lastDrainMs };
  }

  projectionStats(): ProjectionStats {
    const c = this.repo.counters;
    const orders = this.readModel.size;
    const per1000 = (n: number) => (orders > 0 ? (n * 1000) / orders : null);
    return {
      eventStore: this.store.kind,
      projectionLagMs: this.projection.lag.summary(),
      orders,
      conflicts: c.conflicts,
      retries: c.retries,
      conflictsPer1000Orders: per1000(c.conflicts),
      retriesPer1000Orders: per1000(c.retries),
      conflictRetriesExhausted: c.exhausted,
      eventsAppended: c.appended,
      snapshotsSaved: c.snapshots,
      projectionRestarts: this.projection.restartCount,
      projectionDuplicates: this.readModel.duplicatesAbsorbed,
    };
  }

  canCrash(service: string): boolean {
    return (ES_SERVICES as readonly string[]).includes(service);
  }

  /** Kills one subscriber abruptly (mid-batch); it resumes from its checkpoint and redoes unfinished work. */
  async crash(service: string): Promise<void> {
    if (service === 'projection') return this.projection.crash();
    const p = this.processors[service as Exclude<EsService, 'projection'>];
    if (!p) throw new RangeError(`event-sourcing: no service ${JSON.stringify(service)} (known: ${ES_SERVICES.join(', ')})`);
    return p.crash();
  }

  /** Every subscriber is idle and at the head of the log (the slowest one is: every position is at most the head). */
  private async caughtUp(): Promise<boolean> {
    if (Object.values(this.processors).some((p) => !p.idle)) return false;
    return (await this.sampleBacklog()) === 0;
  }

  /** Events the slowest subscriber is behind the head (counted up to 1,000). */
  private async sampleBacklog(): Promise<number> {
    const slowest = Math.min(this.projection.position, ...Object.values(this.processors).map((p) => p.checkpoint));
    const behind = (await this.store.readAll(slowest, BACKLOG_SAMPLE)).length;
    this.peakBacklog = Math.max(this.peakBacklog, behind);
    return behind;
  }

  private startBacklogPoller(): void {
    let busy = false;
    this.poller = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      void this.sampleBacklog()
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, BACKLOG_POLL_MS);
  }

  /** Resolves when every placed order is terminal in the read model and every subscriber is at the head of the log. */
  async drain(timeoutMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    let quiet = 0;
    while (!this.stopped && performance.now() < deadline) {
      let busy = this.waiters.size > 0;
      if (!busy) {
        try {
          busy = !(await this.caughtUp());
        } catch {
          busy = true;
        }
      }
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
    for (const [orderId, list] of this.waiters) {
      for (const w of list) w.reject(new OrderFailedError(orderId, 'stopped', 'the event-sourcing pattern was stopped'));
    }
    this.waiters.clear();
    await this.client.close();
    await this.server.close();
    await this.projection.stop();
    await Promise.all(Object.values(this.processors).map((p) => p.stop()));
    await this.store.close();
  }
}

/** The event-sourcing pattern with other settings (tests use small snapshots and high concurrency). */
export function createEventSourcingPattern(overrides: Partial<EventSourcingSettings> = {}): Pattern {
  const settings: EventSourcingSettings = { ...ES_DEFAULTS, ...overrides };
  return {
    id: 'event-sourcing',
    title: 'Event sourcing + CQRS',
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
