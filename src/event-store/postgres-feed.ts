import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { channelOf, safeHead, safePrefix, statements, type EventRow, type HeadRow, type SafeRead } from './postgres-schema.js';
import type { CatchUpSubscription } from './subscription.js';
import type { RecordedEvent } from './types.js';

/** Events the feed reads per query. */
const FEED_BATCH = 1000;
/** Recent events the feed keeps for its subscribers; one further behind reads for itself. */
const FEED_KEEP = 20_000;
/** First and longest wait before reading again at a gap a running transaction may fill, ms. */
const GAP_RETRY_MS = { first: 1, max: 50 };

/**
 * The live side of every PostgreSQL store of one database and schema in this thread:
 * one LISTEN connection, one reader of the log's tail and one notifier, whatever the
 * number of stores and subscriptions.
 *
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
 *   lost hint costs nothing: the next read finds the events). The payload is the feed's id,
 *   so that it ignores its own.
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

  #notifier: Promise<pg.Client> | undefined;
  #notifying = false;
  #notifyAgain = false;

  constructor(
    readonly key: string,
    private readonly config: pg.ClientConfig,
    schema: string,
    private readonly onClosed: (feed: PostgresFeed) => void,
  ) {
    this.#channel = channelOf(schema);
    this.#sql = statements(schema);
  }

  /** A store starts using the feed. */
  acquire(): void {
    this.#users++;
  }

  /** A store stops using the feed; the last one closes it. */
  async release(): Promise<void> {
    if (--this.#users > 0) return;
    this.#closed = true;
    this.onClosed(this);
    await this.#reset();
    const notifier = this.#notifier;
    this.#notifier = undefined;
    await notifier?.then((c) => c.end()).catch(() => {});
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

  /** A store of this feed appended: read at once here, and tell the other threads and processes. */
  appended(): void {
    if (this.#closed) return;
    if (this.#live) this.#wake();
    this.#notify();
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
    const failed = (err: unknown) => this.#fail(err);
    listener.on('error', failed);
    reader.on('error', failed);
    listener.on('notification', (msg) => {
      if (msg.payload !== this.#id && this.#live) this.#wake();
    });
    listener.on('end', () => {
      if (this.#listener === listener) this.#fail(new Error('the LISTEN connection ended'));
    });
    this.#listener = listener;
    this.#reader = reader;
    await Promise.all([listener.connect(), reader.connect()]);
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
        this.#fail(err);
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

  /** Live delivery is lost: every subscription ends with the error; the next start reconnects. */
  #fail(err: unknown): void {
    if (this.#listener === undefined && this.#reader === undefined) return;
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
export function feedFor(config: pg.ClientConfig, schema: string): PostgresFeed {
  const key = `${String(config.connectionString)}\u0000${schema}`;
  let feed = feeds.get(key);
  if (feed === undefined) {
    feed = new PostgresFeed(key, config, schema, (closed) => {
      if (feeds.get(closed.key) === closed) feeds.delete(closed.key);
    });
    feeds.set(key, feed);
  }
  feed.acquire();
  return feed;
}
