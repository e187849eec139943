/**
 * The event store used by the event-sourcing pattern: `openEventStore('memory')` (the
 * default) or `openEventStore('postgres://user@host:5432/db')`.
 */
import { MemoryEventStore } from './memory.js';
import { openPostgresEventStore, parsePostgresUrl, type PostgresEventStoreOptions } from './postgres.js';
import type { EventStore, RecordedEvent } from './types.js';

export type * from './types.js';
export { EventStoreClosedError, WrongExpectedVersionError } from './errors.js';
export { MemoryEventStore } from './memory.js';
export { PostgresEventStore, openPostgresEventStore, type PostgresEventStoreOptions } from './postgres.js';
export { startEventStoreServer, type EventStoreServer, type EventStoreServerOptions } from './server.js';
export { connectEventStore, EventStoreConnectionError, RemoteEventStore, type RemoteEventStoreOptions } from './remote.js';
export { formatEventStoreUrl, parseEventStoreUrl, type EventStoreAddress } from './wire.js';

/**
 * Opens the store named by `--event-store`: `'memory'` or a `postgres://` URL.
 * Options apply to PostgreSQL only.
 * @throws InvalidOptionError when `spec` is neither.
 * @throws ServiceUnreachableError when the database cannot be reached (within 3 s by default).
 */
export async function openEventStore(spec: string, options: PostgresEventStoreOptions = {}): Promise<EventStore> {
  if (spec === 'memory') return new MemoryEventStore();
  parsePostgresUrl(options.option ?? '--event-store', spec);
  return openPostgresEventStore(spec, options);
}

/**
 * Every event after `afterPosition`, read `batchSize` (default 1000) at a time, so that a
 * log of any length is read in constant memory.
 */
export async function* readAllEvents(
  store: EventStore,
  afterPosition = 0,
  batchSize = 1000,
): AsyncGenerator<RecordedEvent, void, undefined> {
  let after = afterPosition;
  for (;;) {
    const batch = await store.readAll(after, batchSize);
    for (const event of batch) yield event;
    const last = batch[batch.length - 1];
    if (last === undefined || batch.length < batchSize) return;
    after = last.position;
  }
}
