import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { InvalidOptionError, ServiceUnreachableError } from '../errors.js';
import { EventStoreClosedError, WrongExpectedVersionError } from './errors.js';
import { feedFor, type PostgresFeed } from './postgres-feed.js';
import { createPool, endPool } from './postgres-pool.js';
import { migrationSql, safeHead, safePrefix, statements, type EventRow, type HeadRow } from './postgres-schema.js';
import { CatchUpSubscription, type LogSource } from './subscription.js';
import type {
  AppendResult,
  EventHandler,
  EventStore,
  ExpectedVersion,
  JsonObject,
  NewEvent,
  RecordedEvent,
  Snapshot,
  SubscribeOptions,
  Subscription,
} from './types.js';
import { checkAppend, checkCount, checkStream } from './validate.js';

export interface PostgresEventStoreOptions {
  /**
   * Schema that holds this store's tables, so that parallel runs and tests do not collide.
   * Lower-case letters, digits and `_`, at most 48 characters. Default: a fresh
   * `pattern_bench_tmp_…` schema that `close()` drops; a named schema is kept.
   */
  readonly schema?: string;
  /** How long to wait for the server when connecting, in milliseconds. Default 3000. */
  readonly connectTimeoutMs?: number;
  /**
   * Pooled connections for appends and the reads of streams and snapshots, shared by the
   * thread's stores of this database and schema (the largest any of them asked for); each
   * store keeps 2 more for its other queries, and the feed 3 (LISTEN, the tail reader, the
   * notifier). Default 10.
   */
  readonly poolSize?: number;
  /** The option named in error messages. Default `--event-store`. */
  readonly option?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_READ_LIMIT = 1000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Opens (and creates if needed) a PostgreSQL event store.
 * @throws InvalidOptionError for a malformed URL or schema name.
 * @throws ServiceUnreachableError when the server cannot be reached within `connectTimeoutMs`
 *   or the schema cannot be created.
 */
export async function openPostgresEventStore(
  url: string,
  options: PostgresEventStoreOptions = {},
): Promise<PostgresEventStore> {
  const option = options.option ?? '--event-store';
  const shown = redactPassword(parsePostgresUrl(option, url));
  const temporary = options.schema === undefined;
  const schema = options.schema ?? `pattern_bench_tmp_${randomBytes(6).toString('hex')}`;
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidOptionError('schema', schema, 'lower-case letters, digits and _, at most 48 characters');
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const config: pg.ClientConfig = { connectionString: url, connectionTimeoutMillis: connectTimeoutMs };
  // The store's own queries (migration, readAll, head, snapshots saved); appends and the
  // reads of streams and snapshots go through the feed's pool (see PostgresFeed).
  const pool = createPool(config, 2);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await endPool(pool);
    throw new ServiceUnreachableError(option, shown, connectFailureReason(err, connectTimeoutMs));
  }
  try {
    await client.query(migrationSql(schema));
  } catch (err) {
    client.release();
    await endPool(pool);
    throw new ServiceUnreachableError(option, shown, `cannot set up schema ${schema}: ${messageOf(err)}`);
  }
  client.release();
  const store = new PostgresEventStore(pool, config, options.poolSize ?? DEFAULT_POOL_SIZE, schema, temporary);
  await store.warm();
  return store;
}

/**
 * The PostgreSQL event store: one schema holding an `events` table (global position from
 * the identity's sequence, UNIQUE (stream, version)), a `snapshots` table and an `append`
 * function, so that an append is one round trip (`postgres-schema.ts`).
 *
 * Ordering without a table-wide lock. Appends to different streams run and commit in
 * parallel (one advisory lock per stream makes the version check race-free; UNIQUE
 * (stream, version) stays as a second guard), so PostgreSQL's group commit shares one WAL
 * flush among them. Their positions are taken in one order but commit in another, so a
 * reader could see position 12 before 11 commits: every read of the global log (`readAll`,
 * `head`, the subscriptions) hands out only the prefix in which no position can still
 * appear, judged exactly from transaction ids (`safePrefix`: a gap is passed only once every
 * transaction that could fill it has ended — never on a timeout, so a slow transaction's
 * event is not skipped and a rolled-back one's gap does not stall). Positions are therefore
 * strictly increasing in the order events become readable, as the contract says; they are
 * not handed out in commit order.
 *
 * JSON limits: data is stored as jsonb, which rejects the character U+0000 in strings.
 *
 * Live delivery. The stores of one database and schema in a thread share a `PostgresFeed`:
 * one LISTEN connection, one reader of the log's tail whose events every subscription takes
 * without a query of its own, and notifications sent after commit, outside the appends'
 * transactions (see `postgres-feed.ts`).
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres';
  readonly #subscriptions = new Set<CatchUpSubscription>();
  readonly #sql: ReturnType<typeof statements>;
  readonly #feed: PostgresFeed;
  #closed = false;
  readonly #source: LogSource;

  /** Use `openPostgresEventStore`. */
  constructor(
    private readonly pool: pg.Pool,
    config: pg.ClientConfig,
    poolSize: number,
    /** The schema holding this store's tables. */
    readonly schema: string,
    /** Whether `close()` drops the schema. */
    readonly temporary: boolean,
  ) {
    this.#sql = statements(schema);
    this.#feed = feedFor(config, schema, poolSize);
    const readAll = (after: number, limit: number) => this.readAll(after, limit);
    this.#source = {
      readAll: (after, limit) => this.#feed.read(after, limit, readAll),
      ready: () => this.#feed.start(),
      release: (sub) => {
        this.#subscriptions.delete(sub);
        this.#feed.remove(sub);
      },
    };
  }

  /** Opens the shared pool's connections ahead of use (see PostgresFeed.warm). */
  warm(): Promise<void> {
    return this.#feed.warm();
  }

  async append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    this.#checkOpen();
    checkAppend(stream, events, expectedVersion);
    const expected = expectedVersion === 'any' ? -1 : expectedVersion;
    if (events.length === 0) {
      const { rows } = await this.pool.query<{ version: string }>({
        name: 'pb_es_version',
        text: this.#sql.version,
        values: [stream],
      });
      const current = Number(rows[0]?.version ?? 0);
      if (expected >= 0 && current !== expected) throw new WrongExpectedVersionError(stream, expectedVersion, current);
      return { version: current, positions: [] };
    }
    const payload = JSON.stringify(
      events.map((e) => ({ type: e.type, data: e.data, ...(e.metadata === undefined ? {} : { metadata: e.metadata }) })),
    );
    return this.#feed.append({ stream, expectedVersion, expected, payload });
  }

  async readStream(stream: string, afterVersion = 0): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('afterVersion', afterVersion, 0);
    return this.#feed.readStream(stream, afterVersion);
  }

  async readAll(afterPosition: number, limit = DEFAULT_READ_LIMIT): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkCount('afterPosition', afterPosition, 0);
    checkCount('limit', limit, 1);
    const { rows } = await this.pool.query<EventRow>({
      name: 'pb_es_read_all',
      text: this.#sql.readAll,
      values: [afterPosition, limit],
    });
    return safePrefix(rows, afterPosition).events;
  }

  async head(): Promise<number> {
    this.#checkOpen();
    const { rows } = await this.pool.query<HeadRow>({ name: 'pb_es_head', text: this.#sql.head });
    return safeHead(rows);
  }

  subscribe(afterPosition: number, handler: EventHandler, options?: SubscribeOptions): Subscription {
    this.#checkOpen();
    const sub = new CatchUpSubscription(afterPosition, handler, this.#source, options);
    this.#subscriptions.add(sub);
    this.#feed.add(sub);
    return sub;
  }

  async saveSnapshot(stream: string, version: number, state: JsonObject): Promise<void> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('version', version, 0);
    await this.pool.query({
      name: 'pb_es_save_snapshot',
      text: this.#sql.saveSnapshot,
      values: [stream, version, JSON.stringify(state), Date.now()],
    });
  }

  async loadSnapshot(stream: string): Promise<Snapshot | undefined> {
    this.#checkOpen();
    checkStream(stream);
    return this.#feed.loadSnapshot(stream);
  }

  async close(): Promise<void> {
    await this.#shutdown(this.temporary);
  }

  /** Drops the store's schema (tables, function, data), then closes it. For tests and temporary stores. */
  async destroy(): Promise<void> {
    await this.#shutdown(true);
  }

  async #shutdown(drop: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((sub) => sub.stop()));
    await this.#feed.release();
    try {
      if (drop) await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    } finally {
      await endPool(this.pool);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new EventStoreClosedError(this.kind);
  }
}

/** Parses a `postgres://` or `postgresql://` URL with a host, or throws InvalidOptionError. */
export function parsePostgresUrl(option: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') {
    throw new InvalidOptionError(option, value, '"memory" or a postgres://user@host:port/database URL');
  }
  return url;
}

function redactPassword(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

function connectFailureReason(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (/timeout/i.test(messageOf(err))) return `no answer within ${timeoutMs} ms`;
  return messageOf(err);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
