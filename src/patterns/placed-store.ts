import { randomBytes } from 'node:crypto';
import { connectEventStore, formatEventStoreUrl, openPostgresEventStore, type EventStore, type PostgresEventStore } from '../event-store/index.js';
import { routeUrl } from '../net/route-url.js';
import { addressOf, type ComponentModule } from '../placement/component.js';
import type { PlacedSystem } from '../placement/system.js';
import { startStoreServer, type StoreServerInit, type StoreSpec } from './event-sourcing/components.js';
import type { WireStats } from '../wire/meter.js';
import type { PatternContext } from './types.js';

export const STORE_SERVER: ComponentModule<StoreServerInit, Record<never, never>> = {
  url: new URL('./event-sourcing/components.js', import.meta.url),
  exportName: 'startStoreServer',
  factory: startStoreServer,
};

/** PostgreSQL connections each component's store pool may hold (LISTEN takes one more). */
export const POSTGRES_POOL_PER_COMPONENT = 4;

/** A pattern's event store, as its components reach it. */
export interface PlacedStore {
  readonly kind: 'memory' | 'postgres';
  /** What component `name` dials: routed through the run's network as hop `<prefix>:<name>`. */
  specFor(name: string): Promise<StoreSpec>;
  /** The main thread's own connection, not routed (the checker reads the log through it, after the faults). */
  readonly main: EventStore;
  /** Bytes at the store's server sockets: the embedded server's; PostgreSQL's are not metered (zero). */
  wire(): Promise<WireStats>;
  /** Close the main connection; a PostgreSQL store's run schema is dropped. */
  close(): Promise<void>;
}

/**
 * The run's event store for a placed pattern: with `memory`, the embedded store server
 * as a component of the system (placed like the services, reached over TCP); with a
 * PostgreSQL URL, a fresh schema for the run that every component opens on its own pool.
 */
export async function placeStore(system: PlacedSystem, ctx: PatternContext, prefix: string): Promise<PlacedStore> {
  const spec = ctx.options.eventStore;
  if (spec === 'memory') {
    const server = await system.start('store', STORE_SERVER, {});
    const address = addressOf(server, 'pbes');
    const main = await connectEventStore(address);
    return {
      kind: 'memory',
      wire: () => server.wire(),
      specFor: async (name) => ({ kind: 'memory', url: formatEventStoreUrl(await ctx.network.route(`${prefix}:${name}`, address)) }),
      main,
      close: () => main.close(),
    };
  }
  const schema = `pattern_bench_tmp_${randomBytes(6).toString('hex')}`;
  const main: PostgresEventStore = await openPostgresEventStore(spec, { schema, poolSize: 2 });
  return {
    kind: 'postgres',
    wire: async () => ({ bytes: 0, messages: 0 }),
    specFor: async (name) => ({ kind: 'postgres', url: await routeUrl(ctx.network, `${prefix}:${name}`, spec, 5432), schema, poolSize: POSTGRES_POOL_PER_COMPONENT }),
    main,
    close: () => main.destroy(),
  };
}
