import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { WrongExpectedVersionError } from './errors.js';
import { BatchItemError, Coalescer } from './postgres-batch.js';
import { createPool, endPool } from './postgres-pool.js';
import { channelOf, safeHead, safePrefix, statements, toRecorded, WRONG_VERSION_SQLSTATE, type EventRow, type HeadRow, type SafeRead } from './postgres-schema.js';
import type { CatchUpSubscription } from './subscription.js';
import type { AppendResult, ExpectedVersion, JsonObject, RecordedEvent, Snapshot } from './types.js';

/** Queries of one kind (appends, stream reads, snapshot loads) in flight at once; calls meanwhile wait and share the next. */
const BATCHES_IN_FLIGHT = 1;
/** Calls one query takes at most. */
const MAX_BATCH = 64;

/** An append waiting for its batch. */
export interface PendingAppend {
  readonly stream: string;
  readonly expectedVersion: ExpectedVersion;
  /** expectedVersion, with -1 for 'any'. */
  readonly expected: number;
  /** The events as a JSON array. */
  readonly payload: string;
}

/** Events the feed reads per query. */
const FEED_BATCH = 1000;
/** Recent events the feed keeps for its subscribers; one further behind reads for itself. */
const FEED_KEEP = 20_000;
/** First and longest wait before reading again at a gap a running transaction may fill, ms. */
const GAP_RETRY_MS = { first: 1, max: 50 };

/**
 * What every PostgreSQL store of one database and schema in this thread shares: one
 * LISTEN connection, one reader of the log's tail, one notifier and one pool for the hot
 * path, whatever the number of stores and subscriptions (in a run, the components placed
 * on one thread; a component reached through a fault proxy has a URL, so a feed, of its own).
 *
 * - Batching. Appends, stream reads and snapshot loads that come in while one of their
 *   kind is in flight share the next query (`Coalescer`): appends run one after the other
 *   in one transaction (`append_batch`, one commit and one flush for all), each still all
 *   or nothing against its own expected version; reads take `= ANY` of the streams.
 * - Reading. A wake-up (a notification from another thread or process, an append of a
 *   store of this feed, a timer at a gap) makes the feed read after its tail, keep what it
 *   read (the last `FEED_KEEP` events) and wake every subscription; a subscription then
 *   takes its events from what the feed keeps, without a query of its own. Only one
 *   further behind than that reads the log itself (see `read`).
 * - Gaps. The feed reads only what `safePrefix` lets through; when it stops at a gap a
 *   running transaction may fill, it reads again after 1 ms, doubling to 50 ms, until the
 *   gap is filled or final (a rolled-back append sends no notification).
 * - Notifying. Appends do not notify inside their transaction: a transaction that notifies
 *   holds PostgreSQL's notification-queue lock from pre-commit to the end of its commit, so
 *   notifying appends commit one at a time, flushes included. The feed sends one
 *   notification after appends have committed instead, at most one in flight (appends
 *   meanwhile share the next), on its own connection with `synchronous_commit = off` (a
 *   lost hint costs nothing: the next read finds the events) — and only when a feed other
 *   than this one listens (feeds that LISTEN register in the schema's `listeners` table;
 *   an append reads it under a lock that a registering feed waits on), so the components
 *   of one thread, or a saga log nobody follows, send none. The payload is the feed's id,
 *   so that a feed ignores its own.
 */
export class PostgresFeed {
  readonly #id = randomBytes(6).toString('hex');
  readonly #channel: string;
  readonly #sql: ReturnType<typeof statements>;
  readonly #subscriptions = new Set<CatchUpSubscription>();
  #users = 0;
  #closed = false;

  #started: Promise<void> | undefined;
  #listener: pg.Client | undefined;
  #reader: pg.Client | undefined;
  /** Every event with `#keptAfter < position <= #tail` is in `#kept`, in position order. */
  #kept: RecordedEvent[] = [];
  #keptAfter = Number.MAX_SAFE_INTEGER;
  /** Connected, LISTENing and past its first read of the head. */
  #live = false;
  #tail = 0;
  #dirty = false;
  #pumping: Promise<void> | undefined;
  #gapTimer: NodeJS.Timeout | undefined;
  #gapDelay = GAP_RETRY_MS.first;

  readonly #pool: pg.Pool;
  readonly #appends = new Coalescer<PendingAppend, AppendResult>((items) => this.#appendBatch(items), BATCHES_IN_FLIGHT, MAX_BATCH);
  readonly #streamReads = new Coalescer<{ stream: string; afterVersion: number }, readonly RecordedEvent[]>((reads) => this.#readStreams(reads), BATCHES_IN_FLIGHT, MAX_BATCH);
  readonly #snapshotLoads = new Coalescer<string, Snapshot | undefined>((streams) => this.#loadSnapshots(streams), BATCHES_IN_FLIGHT, MAX_BATCH);

  #warmed: Promise<void> | undefined;
  #notifier: Promise<pg.Client> | undefined;
  #notifying = false;
  #notifyAgain = false;

  constructor(
    readonly key: string,
    private readonly config: pg.ClientConfig,
    schema: string,
    poolSize: number,
    private readonly onClosed: (feed: PostgresFeed) => void,
  ) {
    this.#channel = channelOf(schema);
    this.#sql = statements(schema);
    this.#pool = createPool(config, poolSize);
  }

  /** A store starts using the feed; the pool grows to the largest size a store asked for. */
  acquire(poolSize: number): void {
    this.#users++;
    // pg-pool reads `options.max` whenever it decides whether to open another connection.
    const options = (this.#pool as unknown as { options: { max: number } }).options;
    options.max = Math.max(options.max, poolSize);
  }

  /** A store stops using the feed; the last one closes it. */
  async release(): Promise<void> {
    if (--this.#users > 0) return;
    this.#closed = true;
    this.onClosed(this);
    // A feed that ends without this (its connection lost) only costs the others a notification per append.
    if (this.#live) await this.#reader?.query({ name: 'pb_es_unregister', text: this.#sql.unregister, values: [this.#id] }).catch(() => {});
    await this.#reset();
    const notifier = this.#notifier;
    this.#notifier = undefined;
    await notifier?.then((c) => c.end()).catch(() => {});
    await endPool(this.#pool);
  }

  /**
   * Opens the pool's connections and runs each hot statement once on every one (PostgreSQL
   * plans a function and a prepared statement per connection, on first use), so that the
   * first appends and reads of a run pay no connection set-up. Once per feed; a failure
   * here is left to the first real query to report.
   */
  warm(): Promise<void> {
    this.#warmed ??= (async () => {
      const max = (this.#pool as unknown as { options: { max: number } }).options.max;
      const clients = await Promise.all(Array.from({ length: max }, () => this.#pool.connect()));
      try {
        await Promise.all(
          clients.map(async (c) => {
            // No events, expected version 'any': nothing is written.
            await c.query({ name: 'pb_es_append', text: this.#sql.append, values: ['pb-warm-up', -1, '[]', this.#id] });
            await c.query({ name: 'pb_es_append_batch', text: this.#sql.appendBatch, values: ['[]', this.#id] });
            await c.query({ name: 'pb_es_read_stream', text: this.#sql.readStream, values: ['pb-warm-up', 0] });
            await c.query({ name: 'pb_es_read_streams', text: this.#sql.readStreams, values: [['pb-warm-up'], [0]] });
            await c.query({ name: 'pb_es_load_snapshot', text: this.#sql.loadSnapshot, values: ['pb-warm-up'] });
            await c.query({ name: 'pb_es_load_snapshots', text: this.#sql.loadSnapshots, values: [['pb-warm-up']] });
          }),
        );
      } finally {
        for (const c of clients) c.release();
      }
    })().catch(() => {});
    return this.#warmed;
  }

  add(sub: CatchUpSubscription): void {
    this.#subscriptions.add(sub);
  }

  remove(sub: CatchUpSubscription): void {
    this.#subscriptions.delete(sub);
  }

  /** Resolves once LISTEN is active and the feed follows the log; reconnects after a failure. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the feed is closed'));
    this.#started ??= this.#connect().catch(async (err: unknown) => {
      await this.#reset();
      throw err;
    });
    return this.#started;
  }

  /**
   * A subscription's read after `after`: from what the feed keeps when it reaches that far
   * back, else from the log with `readAll` (the store's pool) until the kept events take over.
   */
  async read(after: number, limit: number, readAll: (after: number, limit: number) => Promise<readonly RecordedEvent[]>): Promise<readonly RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    let from = after;
    for (;;) {
      if (this.#live && from >= this.#keptAfter) return out.concat(this.#keptAfterPosition(from, limit - out.length));
      const batch = await readAll(from, limit - out.length);
      out.push(...batch);
      if (out.length >= limit) return out;
      const last = batch[batch.length - 1];
      if (last !== undefined) from = last.position;
      // A short read that ends below the kept events stopped at a gap that was settled by
      // the time the feed read past it (everything up to `#keptAfter` is final): read on at
      // once rather than wait for a wake-up that may not come. A read that started after
      // `#keptAfter` was final always gets that far, so this ends.
      if (!this.#live || from >= this.#keptAfter) return out.concat(this.#live ? this.#keptAfterPosition(from, limit - out.length) : []);
    }
  }

  /** Appends, several at a time in one transaction when they come in together (see Coalescer). */
  append(item: PendingAppend): Promise<AppendResult> {
    return this.#appends.call(item);
  }

  /** A stream's events after `afterVersion`; reads that come in together share one query. */
  readStream(stream: string, afterVersion: number): Promise<readonly RecordedEvent[]> {
    return this.#streamReads.call({ stream, afterVersion });
  }

  /** A stream's snapshot; loads that come in together share one query. */
  loadSnapshot(stream: string): Promise<Snapshot | undefined> {
    return this.#snapshotLoads.call(stream);
  }

  /** Appends that came in together: one after the other in one transaction (one commit). */
  async #appendBatch(items: readonly PendingAppend[]): Promise<readonly (AppendResult | BatchItemError)[]> {
    // Whether a feed other than this one LISTENs, as the appends saw it under their lock.
    const seen = { others: false };
    const one = (item: PendingAppend) => this.#appendOne(item, seen).catch((err: unknown) => new BatchItemError(err));
    try {
      if (items.length === 1) return [await one(items[0] as PendingAppend)];
      const payload = `[${items.map((i) => `{"s":${JSON.stringify(i.stream)},"e":${i.expected},"ev":${i.payload}}`).join(',')}]`;
      let rows: { item: number; new_version: string | null; new_position: string | null; actual: string | null; others: boolean }[];
      try {
        ({ rows } = await this.#pool.query({ name: 'pb_es_append_batch', text: this.#sql.appendBatch, values: [payload, this.#id] }));
      } catch {
        // One bad item (say, a string jsonb refuses) fails the whole transaction: append each alone.
        return await Promise.all(items.map(one));
      }
      const results: (AppendResult | BatchItemError)[] = items.map(() => ({ version: 0, positions: [] }));
      const positions: number[][] = items.map(() => []);
      for (const row of rows) {
        if (row.others) seen.others = true;
        const i = row.item - 1;
        const item = items[i] as PendingAppend;
        if (row.actual !== null) {
          results[i] = new BatchItemError(new WrongExpectedVersionError(item.stream, item.expectedVersion, Number(row.actual)));
          continue;
        }
        (positions[i] as number[]).push(Number(row.new_position));
        results[i] = { version: Number(row.new_version), positions: positions[i] as number[] };
      }
      return results;
    } finally {
      // Also after a failure: a failed append may have taken positions, and the feed reads on past the gap.
      this.#appended(seen.others);
    }
  }

  async #appendOne(item: PendingAppend, seen: { others: boolean }): Promise<AppendResult> {
    let rows: { new_version: string; new_position: string; others: boolean }[];
    try {
      ({ rows } = await this.#pool.query<{ new_version: string; new_position: string; others: boolean }>({
        name: 'pb_es_append',
        text: this.#sql.append,
        values: [item.stream, item.expected, item.payload, this.#id],
      }));
    } catch (err) {
      if ((err as { code?: unknown }).code === WRONG_VERSION_SQLSTATE) {
        throw new WrongExpectedVersionError(item.stream, item.expectedVersion, Number((err as { detail?: unknown }).detail));
      }
      throw err;
    }
    if (rows[0]?.others === true) seen.others = true;
    rows.sort((a, b) => Number(a.new_version) - Number(b.new_version));
    const last = rows[rows.length - 1];
    return { version: Number(last?.new_version), positions: rows.map((r) => Number(r.new_position)) };
  }

  async #readStreams(reads: readonly { stream: string; afterVersion: number }[]): Promise<readonly (readonly RecordedEvent[])[]> {
    if (reads.length === 1) {
      const { stream, afterVersion } = reads[0] as { stream: string; afterVersion: number };
      const { rows } = await this.#pool.query<EventRow>({ name: 'pb_es_read_stream', text: this.#sql.readStream, values: [stream, afterVersion] });
      return [rows.map(toRecorded)];
    }
    const { rows } = await this.#pool.query<EventRow & { item: string }>({
      name: 'pb_es_read_streams',
      text: this.#sql.readStreams,
      values: [reads.map((r) => r.stream), reads.map((r) => r.afterVersion)],
    });
    const results: RecordedEvent[][] = reads.map(() => []);
    for (const row of rows) (results[Number(row.item) - 1] as RecordedEvent[]).push(toRecorded(row));
    return results;
  }

  async #loadSnapshots(streams: readonly string[]): Promise<readonly (Snapshot | undefined)[]> {
    type Row = { item?: string; version: string; state: JsonObject; saved_at: string };
    const toSnapshot = (row: Row): Snapshot => ({ version: Number(row.version), state: row.state, savedAt: Number(row.saved_at) });
    if (streams.length === 1) {
      const { rows } = await this.#pool.query<Row>({ name: 'pb_es_load_snapshot', text: this.#sql.loadSnapshot, values: [streams[0]] });
      return [rows[0] === undefined ? undefined : toSnapshot(rows[0])];
    }
    const { rows } = await this.#pool.query<Row>({ name: 'pb_es_load_snapshots', text: this.#sql.loadSnapshots, values: [streams] });
    const results: (Snapshot | undefined)[] = streams.map(() => undefined);
    for (const row of rows) results[Number(row.item) - 1] = toSnapshot(row);
    return results;
  }

  /**
   * Appends of this feed ended: read at once here, and tell the other threads and processes
   * when one of them listens (`others`: a feed registered as a listener, as the appends saw
   * it; a feed registering waits for the appends under way, then reads the tail itself).
   */
  #appended(others: boolean): void {
    if (this.#closed) return;
    if (this.#live) this.#wake();
    if (others) this.#notify();
  }

  #keptAfterPosition(after: number, limit: number): RecordedEvent[] {
    const kept = this.#kept;
    // First kept event after `after` (binary search: positions increase).
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((kept[mid] as RecordedEvent).position <= after) lo = mid + 1;
      else hi = mid;
    }
    return kept.slice(lo, lo + limit);
  }

  async #connect(): Promise<void> {
    const listener = new pg.Client(this.config);
    const reader = new pg.Client(this.config);
    listener.on('error', (err) => this.#fail(err, listener));
    reader.on('error', (err) => this.#fail(err, reader));
    listener.on('notification', (msg) => {
      if (msg.payload !== this.#id && this.#live) this.#wake();
    });
    listener.on('end', () => {
      this.#fail(new Error('the LISTEN connection ended'), listener);
    });
    this.#listener = listener;
    this.#reader = reader;
    await Promise.all([listener.connect(), reader.connect()]);
    // Registered before LISTEN, LISTEN before the tail is read: an append after the
    // registration notifies, one before it is in the tail.
    await reader.query({ name: 'pb_es_register', text: this.#sql.register, values: [this.#id] });
    await listener.query(`LISTEN "${this.#channel}"`);
    // LISTEN is active before the tail is read, so every later append wakes the feed.
    this.#tail = await this.#safeHead(reader);
    this.#keptAfter = this.#tail;
    this.#kept = [];
    this.#live = true;
    this.#wake();
  }

  async #safeHead(client: pg.Client): Promise<number> {
    const { rows } = await client.query<HeadRow>({ name: 'pb_es_head', text: this.#sql.head });
    return safeHead(rows);
  }

  #wake(): void {
    this.#dirty = true;
    if (this.#pumping !== undefined) return;
    const pumping = this.#pump().finally(() => {
      if (this.#pumping === pumping) this.#pumping = undefined;
    });
    this.#pumping = pumping;
  }

  async #pump(): Promise<void> {
    const reader = this.#reader;
    if (reader === undefined || !this.#live) return;
    while (this.#dirty && !this.#closed && this.#reader === reader) {
      this.#dirty = false;
      let read: SafeRead;
      try {
        const { rows } = await reader.query<EventRow>({ name: 'pb_es_read_all', text: this.#sql.readAll, values: [this.#tail, FEED_BATCH] });
        read = safePrefix(rows, this.#tail);
      } catch (err) {
        this.#fail(err, reader);
        return;
      }
      if (this.#reader !== reader) return;
      const { events } = read;
      if (events.length > 0) {
        this.#keep(events);
        this.#gapDelay = GAP_RETRY_MS.first;
        for (const sub of this.#subscriptions) sub.wake();
      }
      if (events.length === FEED_BATCH) this.#dirty = true;
      if (read.blocked) this.#retryAtGap();
    }
  }

  #keep(events: readonly RecordedEvent[]): void {
    for (const event of events) this.#kept.push(event);
    this.#tail = (events[events.length - 1] as RecordedEvent).position;
    if (this.#kept.length > FEED_KEEP) {
      const drop = this.#kept.length - FEED_KEEP / 2;
      this.#keptAfter = (this.#kept[drop - 1] as RecordedEvent).position;
      this.#kept = this.#kept.slice(drop);
    }
  }

  #retryAtGap(): void {
    if (this.#gapTimer !== undefined) return;
    const delay = this.#gapDelay;
    this.#gapDelay = Math.min(GAP_RETRY_MS.max, delay * 2);
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      this.#wake();
    }, delay);
  }

  #notify(): void {
    if (this.#notifying) {
      this.#notifyAgain = true;
      return;
    }
    this.#notifying = true;
    void this.#sendNotify().finally(() => {
      this.#notifying = false;
      if (this.#notifyAgain && !this.#closed) {
        this.#notifyAgain = false;
        this.#notify();
      }
    });
  }

  async #sendNotify(): Promise<void> {
    this.#notifier ??= (async () => {
      const client = new pg.Client(this.config);
      client.on('error', () => {
        this.#notifier = undefined;
        client.end().catch(() => {});
      });
      await client.connect();
      // A hint only: its commit need not wait for the flush (nor delay anyone's).
      await client.query('SET synchronous_commit TO off');
      return client;
    })();
    const notifier = this.#notifier;
    try {
      const client = await notifier;
      await client.query({ name: 'pb_es_notify', text: 'SELECT pg_notify($1, $2)', values: [this.#channel, this.#id] });
    } catch {
      // Lost: the next append notifies again, and a subscription that stops on its own reads on.
      if (this.#notifier === notifier) this.#notifier = undefined;
      await notifier.then((c) => c.end()).catch(() => {});
    }
  }

  /**
   * Live delivery is lost: every subscription ends with the error; the next start
   * reconnects. Only the current connections count: an old one ending late (or a read on
   * it failing) must not fail the ones that replaced it.
   */
  #fail(err: unknown, client: pg.Client): void {
    if (client !== this.#listener && client !== this.#reader) return;
    for (const sub of this.#subscriptions) sub.fail(err);
    void this.#reset();
  }

  async #reset(): Promise<void> {
    const clients = [this.#listener, this.#reader];
    this.#listener = undefined;
    this.#reader = undefined;
    this.#live = false;
    this.#started = undefined;
    // A read on the old reader may never settle; the next connection pumps afresh.
    this.#pumping = undefined;
    this.#kept = [];
    this.#keptAfter = Number.MAX_SAFE_INTEGER;
    if (this.#gapTimer !== undefined) clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    await Promise.all(clients.map((c) => c?.end().catch(() => {})));
  }
}

const feeds = new Map<string, PostgresFeed>();

/** The feed of a database and schema in this thread, shared by every store that opens them. */
export function feedFor(config: pg.ClientConfig, schema: string, poolSize: number): PostgresFeed {
  const key = `${String(config.connectionString)}\u0000${schema}`;
  let feed = feeds.get(key);
  if (feed === undefined) {
    feed = new PostgresFeed(key, config, schema, poolSize, (closed) => {
      if (feeds.get(closed.key) === closed) feeds.delete(closed.key);
    });
    feeds.set(key, feed);
  }
  feed.acquire(poolSize);
  return feed;
}
