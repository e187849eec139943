import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { InvalidOptionError, ServiceUnreachableError } from '../errors.js';
import { EventStoreClosedError, WrongExpectedVersionError } from './errors.js';
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
  /** Pooled connections for appends and reads (LISTEN uses one more). Default 10. */
  readonly poolSize?: number;
  /** The option named in error messages. Default `--event-store`. */
  readonly option?: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_READ_LIMIT = 1000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
/** SQLSTATE the append function raises on a version conflict; its DETAIL is the actual version. */
const WRONG_VERSION_SQLSTATE = 'PBWEV';

interface EventRow {
  position: string;
  stream: string;
  version: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject | null;
  recorded_at: string;
}

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
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? DEFAULT_POOL_SIZE, idleTimeoutMillis: 10_000 });
  // An idle pooled connection that drops is reported here; the next query reconnects.
  pool.on('error', () => {});
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end();
    throw new ServiceUnreachableError(option, shown, connectFailureReason(err, connectTimeoutMs));
  }
  try {
    await client.query(migrationSql(schema));
  } catch (err) {
    client.release();
    await pool.end();
    throw new ServiceUnreachableError(option, shown, `cannot set up schema ${schema}: ${messageOf(err)}`);
  }
  client.release();
  return new PostgresEventStore(pool, config, schema, temporary);
}

/**
 * The PostgreSQL event store: one schema holding an `events` table (global position =
 * identity column, UNIQUE (stream, version)), a `snapshots` table and an `append`
 * function, so that an append is one round trip.
 *
 * Ordering. A position is taken from a sequence when a row is inserted, but transactions
 * commit in any order, so a reader could see position 12 before 11 commits, move its
 * checkpoint past 11 and never deliver it. This store avoids that by serialising appends:
 * `append` takes a transaction-scoped advisory lock (one per schema) before reading the
 * stream's version and inserting, and holds it until commit. Positions are therefore
 * handed out in commit order, and any position a reader can see has every lower position
 * either committed or rolled back for good. The price is one append at a time per store,
 * which also makes the version check race-free; UNIQUE (stream, version) stays as a
 * second guard. It costs less than it seems: a transaction that calls pg_notify already
 * holds a database-wide lock from pre-commit to the end of commit (so that notifications
 * queue in commit order), so notifying appends commit one at a time anyway. Measured with
 * per-stream locks and readers that wait out gaps instead, appends were not clearly faster.
 *
 * JSON limits: data is stored as jsonb, which rejects the character U+0000 in strings.
 *
 * Live delivery. `append` calls `pg_notify` (sent at commit); subscriptions share one
 * LISTEN connection, and every notification triggers a catch-up read after the
 * subscription's checkpoint, so a notification is only a hint and none can be missed.
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres';
  readonly #subscriptions = new Set<CatchUpSubscription>();
  readonly #channel: string;
  readonly #sql: ReturnType<typeof statements>;
  #listener: Promise<pg.Client> | undefined;
  #closed = false;
  readonly #source: LogSource = {
    readAll: (after, limit) => this.readAll(after, limit),
    ready: async () => {
      await this.#listen();
    },
    release: (sub) => this.#subscriptions.delete(sub),
  };

  /** Use `openPostgresEventStore`. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    /** The schema holding this store's tables. */
    readonly schema: string,
    /** Whether `close()` drops the schema. */
    readonly temporary: boolean,
  ) {
    this.#channel = `${schema}_events`;
    this.#sql = statements(schema);
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
    try {
      const { rows } = await this.pool.query<{ new_version: string; new_position: string }>({
        name: 'pb_es_append',
        text: this.#sql.append,
        values: [stream, expected, payload],
      });
      rows.sort((a, b) => Number(a.new_version) - Number(b.new_version));
      const last = rows[rows.length - 1];
      return { version: Number(last?.new_version), positions: rows.map((r) => Number(r.new_position)) };
    } catch (err) {
      if ((err as { code?: unknown }).code === WRONG_VERSION_SQLSTATE) {
        throw new WrongExpectedVersionError(stream, expectedVersion, Number((err as { detail?: unknown }).detail));
      }
      throw err;
    }
  }

  async readStream(stream: string, afterVersion = 0): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('afterVersion', afterVersion, 0);
    const { rows } = await this.pool.query<EventRow>({
      name: 'pb_es_read_stream',
      text: this.#sql.readStream,
      values: [stream, afterVersion],
    });
    return rows.map(toRecorded);
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
    return rows.map(toRecorded);
  }

  async head(): Promise<number> {
    this.#checkOpen();
    const { rows } = await this.pool.query<{ head: string }>({ name: 'pb_es_head', text: this.#sql.head });
    return Number(rows[0]?.head ?? 0);
  }

  subscribe(afterPosition: number, handler: EventHandler, options?: SubscribeOptions): Subscription {
    this.#checkOpen();
    const sub = new CatchUpSubscription(afterPosition, handler, this.#source, options);
    this.#subscriptions.add(sub);
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
    const { rows } = await this.pool.query<{ version: string; state: JsonObject; saved_at: string }>({
      name: 'pb_es_load_snapshot',
      text: this.#sql.loadSnapshot,
      values: [stream],
    });
    const row = rows[0];
    return row === undefined ? undefined : { version: Number(row.version), state: row.state, savedAt: Number(row.saved_at) };
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
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener !== undefined) {
      await listener.then(
        (client) => client.end(),
        () => {},
      );
    }
    try {
      if (drop) await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    } finally {
      await this.pool.end();
    }
  }

  /** The shared LISTEN connection, opened on first use and reopened after a failure. */
  #listen(): Promise<pg.Client> {
    this.#checkOpen();
    this.#listener ??= (async () => {
      const client = new pg.Client(this.config);
      client.on('notification', () => {
        for (const sub of this.#subscriptions) sub.wake();
      });
      client.on('error', (err) => {
        if (this.#listener !== undefined) this.#listener = undefined;
        for (const sub of this.#subscriptions) sub.fail(err);
        client.end().catch(() => {});
      });
      try {
        await client.connect();
        await client.query(`LISTEN "${this.#channel}"`);
      } catch (err) {
        this.#listener = undefined;
        await client.end().catch(() => {});
        throw err;
      }
      return client;
    })();
    return this.#listener;
  }

  #checkOpen(): void {
    if (this.#closed) throw new EventStoreClosedError(this.kind);
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  const base = {
    type: row.type,
    data: row.data,
    stream: row.stream,
    version: Number(row.version),
    position: Number(row.position),
    recordedAt: Number(row.recorded_at),
  };
  return Object.freeze(row.metadata === null ? base : { ...base, metadata: row.metadata });
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

function statements(schema: string) {
  const s = `"${schema}"`;
  const columns = 'position, stream, version, type, data, metadata, recorded_at';
  return {
    append: `SELECT new_version, new_position FROM ${s}.append($1, $2, $3::jsonb)`,
    version: `SELECT coalesce(max(version), 0) AS version FROM ${s}.events WHERE stream = $1`,
    readStream: `SELECT ${columns} FROM ${s}.events WHERE stream = $1 AND version > $2 ORDER BY version`,
    readAll: `SELECT ${columns} FROM ${s}.events WHERE position > $1 ORDER BY position LIMIT $2`,
    head: `SELECT coalesce(max(position), 0) AS head FROM ${s}.events`,
    saveSnapshot:
      `INSERT INTO ${s}.snapshots AS sn (stream, version, state, saved_at) VALUES ($1, $2, $3::jsonb, $4) ` +
      'ON CONFLICT (stream) DO UPDATE SET version = excluded.version, state = excluded.state, saved_at = excluded.saved_at ' +
      'WHERE sn.version <= excluded.version',
    loadSnapshot: `SELECT version, state, saved_at FROM ${s}.snapshots WHERE stream = $1`,
  };
}

/**
 * Creates the schema idempotently. A global advisory lock serialises concurrent
 * migrations (CREATE … IF NOT EXISTS alone can still race on the catalogue).
 */
function migrationSql(schema: string): string {
  const s = `"${schema}"`;
  const lit = (text: string) => `'${text}'`; // schema matches SCHEMA_NAME: no quotes to escape
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pattern-bench event-store migration', 0));
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb,
  recorded_at bigint NOT NULL,
  UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS ${s}.snapshots (
  stream text PRIMARY KEY,
  version bigint NOT NULL,
  state jsonb NOT NULL,
  saved_at bigint NOT NULL
);
CREATE OR REPLACE FUNCTION ${s}.append(p_stream text, p_expected bigint, p_events jsonb)
RETURNS TABLE (new_version bigint, new_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_current bigint;
  v_now bigint;
BEGIN
  -- Held until commit: positions are assigned in commit order (see PostgresEventStore).
  PERFORM pg_advisory_xact_lock(hashtextextended(${lit(schema)}, 0));
  SELECT coalesce(max(e.version), 0) INTO v_current FROM ${s}.events e WHERE e.stream = p_stream;
  IF p_expected >= 0 AND v_current <> p_expected THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = '${WRONG_VERSION_SQLSTATE}', DETAIL = v_current::text;
  END IF;
  v_now := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  RETURN QUERY
    INSERT INTO ${s}.events AS e (stream, version, type, data, metadata, recorded_at)
    SELECT p_stream, v_current + t.ord, t.ev->>'type', t.ev->'data', t.ev->'metadata', v_now
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(ev, ord)
    ORDER BY t.ord
    RETURNING e.version, e.position;
  PERFORM pg_notify(${lit(`${schema}_events`)}, '');
END
$fn$;
COMMIT;`;
}
