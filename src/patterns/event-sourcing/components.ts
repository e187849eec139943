import { connectEventStore, MemoryEventStore, openPostgresEventStore, startEventStoreServer, type EventStore } from '../../event-store/index.js';
import type { Address } from '../../net/address.js';
import type { LatencySummary } from '../../metrics/histogram.js';
import type { ComponentApi, ComponentFactory } from '../../placement/component.js';
import { seededRandom } from '../../random.js';
import { NotificationsService } from '../../workflow/notifications.js';
import type { World } from '../../workflow/services.js';
import type { ErrorsApi, SnapshotPart } from '../service-api.js';
import { ErrorRate, TransientServiceError } from '../transient.js';
import { aggregateTypes } from './aggregates.js';
import { startCommandServer } from './command-server.js';
import { INVENTORY_WORK, inventoryHandler, type DuplicateCounter } from './inventory-processor.js';
import { notificationsHandler } from './notifications-processor.js';
import { PAYMENTS_WORK, paymentsHandler } from './payments-processor.js';
import { Processor, type ProcessorHandler } from './processor.js';
import { OrderOutcomes } from './outcomes.js';
import { OrdersProjection } from './projection.js';
import { startQueryServer } from './query-server.js';
import { OrdersReadModel, type OrderView } from './read-model.js';
import { Repository, type ConcurrencyCounters } from './repository.js';

/**
 * How a component reaches the event store, already routed through the run's network
 * (`es-store:<component>`): the embedded store server, or PostgreSQL in the run's schema.
 * `local`: a store in the component's own memory, which nobody else reaches and which goes
 * with its process (`pattern-bench serve`'s orchestrator without --event-store).
 */
export type StoreSpec =
  | { readonly kind: 'memory'; readonly url: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string; readonly poolSize: number }
  | { readonly kind: 'local' };

/** Tuning every component of the pattern shares (see ES_DEFAULTS). */
export interface ComponentSettings {
  readonly snapshotEvery: number;
  readonly processorConcurrency: number;
  readonly checkpointEvery: number;
  readonly restartDelayMs: number;
  /** The projection holds each event this long before applying it, ms (ProjectionOptions.applyDelayMs): a lagging read model for tests. 0 in ES_DEFAULTS. */
  readonly projectionDelayMs: number;
}

export async function openStore(spec: StoreSpec): Promise<EventStore> {
  if (spec.kind === 'local') return new MemoryEventStore();
  return spec.kind === 'memory' ? connectEventStore(spec.url) : openPostgresEventStore(spec.url, { schema: spec.schema, poolSize: spec.poolSize });
}

export interface StoreServerInit {
  /** Where it listens: 127.0.0.1, any free port, unless given (`pattern-bench serve --service event-store`). */
  readonly listen?: Address;
}

/** The embedded event store server: the log every other component reads and appends to over TCP. */
export const startStoreServer: ComponentFactory<StoreServerInit, Record<never, never>> = async (init, env) => {
  const server = await startEventStoreServer({
    ...(init.listen ? { host: init.listen.host, port: init.listen.port } : {}),
    onConnection: (socket) => env.meter.attach(socket),
    onMessages: (n) => env.meter.countMessages(n),
  });
  return { addresses: { pbes: server.address }, stop: () => server.close() };
};

export interface CommandHandlerInit {
  readonly store: StoreSpec;
  readonly settings: ComponentSettings;
  readonly seed: number;
  /** Where the command server listens: 127.0.0.1, any free port, unless given (`pattern-bench serve`). */
  readonly listen?: Address;
}

export interface CommandHandlerApi extends ComponentApi {
  /** PlaceOrder commands for an order that existed already (a retried command). */
  duplicates(): number;
  counters(): ConcurrencyCounters;
}

/** The orders command handler (the C of CQRS): POST /orders appends OrderCreated, 202 once appended; GET /orders/<id>?wait= answers its outcome from the log. */
export const startCommandHandler: ComponentFactory<CommandHandlerInit, CommandHandlerApi> = async (init, env) => {
  const store = await openStore(init.store);
  const outcomes = new OrderOutcomes(store);
  try {
    const repo = new Repository(store, { snapshotEvery: init.settings.snapshotEvery, random: seededRandom(init.seed) });
    await outcomes.start();
    const server = await startCommandServer(repo, outcomes, env.meter, init.listen);
    return {
      addresses: { http: server.address },
      api: { duplicates: () => server.duplicates(), counters: () => ({ ...repo.counters }) },
      stop: async () => {
        await server.close();
        await outcomes.stop();
        await store.close();
      },
    };
  } catch (err) {
    await outcomes.stop();
    await store.close();
    throw err;
  }
};

export type ProcessorService = 'inventory' | 'payments' | 'notifications';

export interface ProcessorInit {
  readonly service: ProcessorService;
  readonly store: StoreSpec;
  readonly world: World;
  readonly settings: ComponentSettings;
  readonly seed: number;
}

export interface ProcessorApi extends ComponentApi, ErrorsApi {
  idle(): boolean;
  /** Every event at or below this position has been handled. */
  checkpoint(): number;
  /** Redeliveries absorbed by idempotency. */
  duplicates(): number;
  /** Times the processor resubscribed from its checkpoint (crash or lost subscription). */
  restarts(): number;
  counters(): ConcurrencyCounters;
  hopErrors(): Readonly<Record<string, number>>;
  /** Die abruptly (mid-batch) and resume from the checkpoint after `downMs` (default: the settings' restart delay). */
  crash(downMs?: number): Promise<void>;
  /** Notifications' state (the other processors' state is in the log). */
  snapshot(): SnapshotPart;
}

/** A processor of the log: inventory, payments or notifications, each subscribed on its own connection. */
export const startProcessor: ComponentFactory<ProcessorInit, ProcessorApi> = async (init, env) => {
  const store = await openStore(init.store);
  const hopErrors: Record<string, number> = {};
  const duplicates: DuplicateCounter = { duplicates: 0 };
  const repo = new Repository(store, { snapshotEvery: init.settings.snapshotEvery, random: seededRandom(init.seed) });
  const types = aggregateTypes(init.world);
  const notifications = new NotificationsService();
  const errors = new ErrorRate(env.random.fork());
  const work = init.service === 'inventory' ? INVENTORY_WORK : init.service === 'payments' ? PAYMENTS_WORK : new Set<string>();
  const inner: ProcessorHandler =
    init.service === 'inventory' ? inventoryHandler(repo, types, duplicates) : init.service === 'payments' ? paymentsHandler(repo, types, duplicates) : notificationsHandler(notifications);
  // The flaky scenario: a task fails before it does anything; the processor tries it again.
  const handler: ProcessorHandler = (event, alive, first) => (work.has(event.type) && errors.fail() ? Promise.reject(new TransientServiceError(init.service)) : inner(event, alive, first));
  const processor = new Processor(store, handler, {
    name: init.service,
    concurrency: init.settings.processorConcurrency,
    restartDelayMs: init.settings.restartDelayMs,
    onError: (kind) => (hopErrors[`${init.service}:${kind}`] = (hopErrors[`${init.service}:${kind}`] ?? 0) + 1),
  });
  processor.start();
  return {
    api: {
      idle: () => processor.idle,
      checkpoint: () => processor.checkpoint,
      duplicates: () => duplicates.duplicates,
      restarts: () => processor.restartCount,
      counters: () => ({ ...repo.counters }),
      hopErrors: () => ({ ...hopErrors }),
      crash: (downMs?: number) => {
        repo.forget(); // a crashed process remembers nothing
        return processor.crash(downMs);
      },
      errors: (share: number) => errors.set(share),
      snapshot: () => (init.service === 'notifications' ? { notifications: notifications.snapshot() } : {}),
    },
    stop: async () => {
      await processor.stop();
      await store.close();
    },
  };
};

export interface ProjectionInit {
  readonly store: StoreSpec;
  readonly settings: ComponentSettings;
  /** Where the query server listens: 127.0.0.1, any free port, unless given (`pattern-bench serve`). */
  readonly listen?: Address;
}

export interface ProjectionApi extends ComponentApi {
  /** Position of the last event handled. */
  position(): number;
  /** From the store recording an order event to the read model applying it, ms. */
  lag(): LatencySummary;
  restarts(): number;
  /** Redelivered events the read model absorbed by stream version. */
  duplicates(): number;
  /** Orders in the read model. */
  size(): number;
  /** Every row, sorted by orderId. */
  rows(): OrderView[];
  hopErrors(): Readonly<Record<string, number>>;
  crash(downMs?: number): Promise<void>;
}

/**
 * The read side (the Q of CQRS): a projection subscribed to the log builds the orders
 * read model, which it serves over HTTP — `GET /orders/<id>`, and `?wait=<ms>` to hold
 * the answer until the order is terminal.
 */
export const startProjection: ComponentFactory<ProjectionInit, ProjectionApi> = async (init, env) => {
  const store = await openStore(init.store);
  const errors: Record<string, number> = {};
  const ref: { notify?: (view: OrderView) => void } = {};
  const readModel = new OrdersReadModel((view) => ref.notify?.(view));
  const projection = new OrdersProjection(store, readModel, {
    checkpointEvery: init.settings.checkpointEvery,
    restartDelayMs: init.settings.restartDelayMs,
    applyDelayMs: init.settings.projectionDelayMs,
    onError: (kind) => (errors[`projection:${kind}`] = (errors[`projection:${kind}`] ?? 0) + 1),
  });
  let server;
  try {
    server = await startQueryServer(readModel, env.meter, init.listen);
  } catch (err) {
    await store.close();
    throw err;
  }
  const query = server;
  ref.notify = (view) => query.terminal(view);
  projection.start();
  return {
    addresses: { http: query.address },
    api: {
      position: () => projection.position,
      lag: () => projection.lag.summary(),
      restarts: () => projection.restartCount,
      duplicates: () => readModel.duplicatesAbsorbed,
      size: () => readModel.size,
      rows: () => readModel.all(),
      hopErrors: () => ({ ...errors }),
      crash: (downMs?: number) => projection.crash(downMs),
    },
    stop: async () => {
      await query.close();
      await projection.stop();
      await store.close();
    },
  };
};
