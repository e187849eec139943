import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore, WrongExpectedVersionError, type PostgresEventStore, type RecordedEvent } from '../src/event-store/index.js';
import { DATABASE_URL as SUPPORT_DATABASE_URL, POSTGRES_RUNS } from './support/stores.js';

// The PostgreSQL store's live side and batching: the feed a thread's stores of one schema
// share, appends that share a transaction, and many writers on many connections.
const DATABASE_URL = SUPPORT_DATABASE_URL ?? '';

/** A URL of its own (a feed is per URL and schema in a thread), like a component behind its own fault proxy. */
function urlNamed(name: string): string {
  const u = new URL(DATABASE_URL);
  u.searchParams.set('application_name', name);
  return u.href;
}

describe.runIf(POSTGRES_RUNS)('postgres event store: feed and batches', () => {
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  let connected: Promise<void> | undefined;
  async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    connected ??= admin.connect().then(() => undefined);
    await connected;
    return (await admin.query<R>(text, values)).rows;
  }
  afterAll(async () => {
    await admin.end().catch(() => {});
  });
  const uniqueSchema = () => `pb_test_feed_${randomBytes(4).toString('hex')}`;

  it('delivers every event of writers on several connections exactly once, in position order, to subscribers on several feeds', async () => {
    const schema = uniqueSchema();
    const writers: PostgresEventStore[] = [];
    const readers: PostgresEventStore[] = [];
    try {
      for (let i = 0; i < 3; i++) writers.push(await openPostgresEventStore(urlNamed(`pb-writer-${i}`), { schema, poolSize: 3 }));
      for (let i = 0; i < 2; i++) readers.push(await openPostgresEventStore(urlNamed(`pb-reader-${i}`), { schema, poolSize: 2 }));
      // Two subscribers on one reader's feed, one on the other's, one on a writer's own feed.
      const subscribed = [readers[0]!, readers[0]!, readers[1]!, writers[0]!];
      const seen: number[][] = subscribed.map(() => []);
      const subs = subscribed.map((store, i) => store.subscribe(0, (e) => void seen[i]!.push(e.position), { batchSize: 5 }));
      await Promise.all(subs.map((s) => s.caughtUp));
      const perWriter = 60;
      await Promise.all(
        writers.flatMap((store, w) =>
          // Four concurrent streams per connection: appends batch, commit out of position order, and leave gaps.
          Array.from({ length: 4 }, async (_, k) => {
            for (let v = 0; v < perWriter / 4; v++) await store.append(`w${w}-${k}`, [{ type: 'E', data: { v } }], v);
          }),
        ),
      );
      const log = (await readers[1]!.readAll(0, 10_000)).map((e) => e.position);
      expect(log).toHaveLength(writers.length * perWriter);
      for (let i = 0; i < seen.length; i++) await expect.poll(() => seen[i]!.length, { timeout: 10_000 }).toBe(log.length);
      for (const positions of seen) expect(positions).toEqual(log);
      await Promise.all(subs.map((s) => s.stop()));
    } finally {
      for (const store of [...readers, ...writers.slice(1)]) await store.close();
      await writers[0]?.destroy();
    }
  });

  it('shares one LISTEN connection among the stores of a schema in a thread', async () => {
    const schema = uniqueSchema();
    const stores = [await openPostgresEventStore(DATABASE_URL, { schema }), await openPostgresEventStore(DATABASE_URL, { schema })];
    try {
      const subs = [stores[0]!.subscribe(0, () => {}), stores[0]!.subscribe(0, () => {}), stores[1]!.subscribe(0, () => {})];
      await Promise.all(subs.map((s) => s.caughtUp));
      const listening = await sql<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1', [`LISTEN "${schema}_events"`]);
      expect(listening).toEqual([{ n: '1' }]);
      await Promise.all(subs.map((s) => s.stop()));
    } finally {
      await stores[1]!.close();
      await stores[0]!.destroy();
    }
  });

  it('registers a feed as a listener while it follows the log, so that only other feeds\' appends notify it', async () => {
    const schema = uniqueSchema();
    const follower = await openPostgresEventStore(urlNamed('pb-follower'), { schema });
    const writer = await openPostgresEventStore(urlNamed('pb-writer'), { schema });
    const notified: string[] = [];
    const raw = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await raw.connect();
      raw.on('notification', (msg) => notified.push(msg.payload ?? ''));
      await raw.query(`LISTEN "${schema}_events"`);
      // Nobody follows yet: appends send no notification.
      await writer.append('a', [{ type: 'A', data: {} }], 0);
      expect(await sql('SELECT id FROM "' + schema + '".listeners')).toEqual([]);
      const seen: string[] = [];
      const sub = follower.subscribe(0, (e) => void seen.push(e.stream));
      await sub.caughtUp;
      expect(await sql('SELECT count(*) AS n FROM "' + schema + '".listeners')).toEqual([{ n: '1' }]);
      // The follower's own appends do not notify (it reads them at once); the writer's do.
      await follower.append('b', [{ type: 'B', data: {} }], 0);
      await writer.append('c', [{ type: 'C', data: {} }], 0);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['a', 'b', 'c']);
      await expect.poll(() => notified.length, { timeout: 5000 }).toBe(1);
      await sub.stop();
      await follower.close();
      expect(await sql('SELECT id FROM "' + schema + '".listeners')).toEqual([]);
    } finally {
      await raw.end().catch(() => {});
      await follower.close();
      await writer.destroy();
    }
  });

  it('lets exactly one of concurrent appends at one expected version win, within one batch, with the actual version', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    try {
      await store.append('hot', [{ type: 'A', data: {} }], 0);
      // Issued together: they share a batch (one transaction) behind the first append in flight.
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.append('hot', [{ type: 'B', data: { i } }, { type: 'C', data: { i } }], 1)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect((won[0] as PromiseFulfilledResult<{ version: number }>).value.version).toBe(3);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(WrongExpectedVersionError);
        expect((r.reason as WrongExpectedVersionError).message).toBe('wrong expected version for stream "hot": expected 1, actual 3');
      }
      expect((await store.readStream('hot')).map((e) => e.version)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
  });

  it('fails only the bad append of a batch', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    try {
      await store.append('first', [{ type: 'A', data: {} }], 0);
      const results = await Promise.allSettled([
        store.append('ok-1', [{ type: 'A', data: {} }], 0),
        // jsonb refuses U+0000 in a string: this append fails, the others land.
        store.append('bad', [{ type: 'A', data: { s: 'a\u0000b' } }], 0),
        store.append('ok-2', [{ type: 'A', data: {} }], 0),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.readAll(0)).map((e) => e.stream)).toEqual(expect.arrayContaining(['first', 'ok-1', 'ok-2']));
      expect((await store.readAll(0)).map((e) => e.stream)).not.toContain('bad');
    } finally {
      await store.close();
    }
  });

  it('reads streams and snapshots that are asked for together in one answer each', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    try {
      await store.append('a', [{ type: 'A1', data: {} }, { type: 'A2', data: {} }], 0);
      await store.append('b', [{ type: 'B1', data: {} }], 0);
      await store.saveSnapshot('a', 1, { n: 1 });
      const types = (events: readonly RecordedEvent[]) => events.map((e) => e.type);
      const [a, a1, b, none, snapA, snapB] = await Promise.all([
        store.readStream('a'),
        store.readStream('a', 1),
        store.readStream('b'),
        store.readStream('missing'),
        store.loadSnapshot('a'),
        store.loadSnapshot('b'),
      ]);
      expect([types(a), types(a1), types(b), types(none)]).toEqual([['A1', 'A2'], ['A2'], ['B1'], []]);
      expect(snapA).toMatchObject({ version: 1, state: { n: 1 } });
      expect(snapB).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
