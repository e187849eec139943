import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, ServiceUnreachableError } from '../src/errors.js';
import { DATABASE_URL as SUPPORT_DATABASE_URL, POSTGRES_RUNS } from './support/stores.js';
import { openPostgresEventStore, type RecordedEvent } from '../src/event-store/index.js';

// What only the PostgreSQL store has: named schemas that outlive the process, isolation
// between stores, a LISTEN connection that can fail. Runs like the conformance suite: when
// DATABASE_URL is set and answers, or always with PB_REQUIRE_SERVICES=1.
const DATABASE_URL = SUPPORT_DATABASE_URL ?? '';

const run = POSTGRES_RUNS;

describe.runIf(run)('postgres event store', () => {
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  let adminConnected: Promise<void> | undefined;
  async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    adminConnected ??= admin.connect().then(() => undefined);
    await adminConnected;
    return (await admin.query<R>(text, values)).rows;
  }
  afterAll(async () => {
    await admin.end().catch(() => {});
  });
  const schemaExists = async (schema: string) =>
    (await sql('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).length === 1;
  const uniqueSchema = () => `pb_test_${randomBytes(4).toString('hex')}`;

  it('keeps a named schema across close() and resumes a subscription from its checkpoint', async () => {
    const schema = uniqueSchema();
    const first = await openPostgresEventStore(DATABASE_URL, { schema });
    expect(first.temporary).toBe(false);
    await first.append('s', [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }], 0);
    const seen: RecordedEvent[] = [];
    const sub = first.subscribe(0, (e) => {
      seen.push(e);
    });
    await sub.caughtUp;
    await first.close();
    const checkpoint = sub.checkpoint;
    expect(seen.map((e) => e.type)).toEqual(['A', 'B']);
    expect(await schemaExists(schema)).toBe(true);

    const second = await openPostgresEventStore(DATABASE_URL, { schema });
    try {
      await second.append('s', [{ type: 'C', data: { n: 3 } }], 2);
      const resumed: RecordedEvent[] = [];
      const sub2 = second.subscribe(checkpoint, (e) => {
        resumed.push(e);
      });
      await sub2.caughtUp;
      expect(resumed.map((e) => [e.type, e.version])).toEqual([['C', 3]]);
    } finally {
      await second.destroy();
    }
    expect(await schemaExists(schema)).toBe(false);
  });

  it('drops a temporary schema on close() and keeps stores apart', async () => {
    const a = await openPostgresEventStore(DATABASE_URL);
    const b = await openPostgresEventStore(DATABASE_URL);
    expect(a.schema).toMatch(/^pattern_bench_tmp_[0-9a-f]{12}$/);
    expect(a.schema).not.toBe(b.schema);
    await a.append('same-stream', [{ type: 'A', data: {} }], 0);
    await b.append('same-stream', [{ type: 'B', data: {} }], 0);
    expect((await a.readAll(0)).map((e) => e.type)).toEqual(['A']);
    expect((await b.readAll(0)).map((e) => e.type)).toEqual(['B']);
    await Promise.all([a.close(), b.close()]);
    expect(await schemaExists(a.schema)).toBe(false);
    expect(await schemaExists(b.schema)).toBe(false);
  });

  it('ends subscriptions with an error when the LISTEN connection is lost, and can subscribe again', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    try {
      const sub = store.subscribe(0, () => {});
      await sub.caughtUp;
      const killed = await sql<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = $1',
        [`LISTEN "${store.schema}_events"`],
      );
      expect(killed).toEqual([{ ok: true }]);
      await expect(sub.done).rejects.toMatchObject({ code: '57P01' });

      const seen: string[] = [];
      const again = store.subscribe(0, (e) => {
        seen.push(e.type);
      });
      await again.caughtUp;
      await store.append('s', [{ type: 'Live', data: {} }], 0);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['Live']);
    } finally {
      await store.close();
    }
  });

  it('lets an append commit past an uncommitted one, but no reader past its position', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    const slow = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await slow.connect();
      const seen: string[] = [];
      const sub = store.subscribe(0, (e) => {
        seen.push(e.stream);
      });
      await sub.caughtUp;
      // A writer that has taken its position but not committed yet.
      await slow.query('BEGIN');
      const [held] = (await slow.query<{ new_position: string }>(`SELECT * FROM "${store.schema}".append('first', 0, '[{"type":"A","data":{}}]')`)).rows;
      const { positions } = await store.append('second', [{ type: 'B', data: {} }], 0);
      expect(positions[0]).toBeGreaterThan(Number(held?.new_position));
      // Committed, but behind a position that may still appear: no read hands it out yet.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).toEqual([]);
      expect(await store.readAll(0)).toEqual([]);
      expect(await store.head()).toBe(0);
      await slow.query('COMMIT');
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['first', 'second']);
      expect(await store.head()).toBe(positions[0]);
    } finally {
      await slow.end().catch(() => {});
      await store.close();
    }
  });

  it('reads past the gap a rolled-back append leaves, without a notification', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    const slow = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await slow.connect();
      const seen: string[] = [];
      const sub = store.subscribe(0, (e) => {
        seen.push(e.stream);
      });
      await sub.caughtUp;
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM "${store.schema}".append('doomed', 0, '[{"type":"A","data":{}}]')`);
      await store.append('kept', [{ type: 'B', data: {} }], 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toEqual([]);
      await slow.query('ROLLBACK');
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['kept']);
      expect((await store.readAll(0)).map((e) => e.stream)).toEqual(['kept']);
    } finally {
      await slow.end().catch(() => {});
      await store.close();
    }
  });

  it('refuses an append inside a transaction that has written already', async () => {
    const store = await openPostgresEventStore(DATABASE_URL);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await client.connect();
      await client.query('BEGIN');
      await client.query(`SELECT * FROM "${store.schema}".append('a', 0, '[{"type":"A","data":{}}]')`);
      const err = await client.query(`SELECT * FROM "${store.schema}".append('b', 0, '[{"type":"B","data":{}}]')`).catch((e: unknown) => e);
      expect((err as Error).message).toBe('append must be the first write of its transaction');
      await client.query('ROLLBACK');
    } finally {
      await client.end().catch(() => {});
      await store.close();
    }
  });

  it('reports a missing database as an unreachable --event-store', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = '/pb_no_such_db';
    const err = await openPostgresEventStore(url.href).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect((err as Error).message).toBe(
      `cannot reach --event-store ${JSON.stringify(url.href.replace(/:[^:@/]*@/, ':***@'))}: database "pb_no_such_db" does not exist`,
    );
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    const err = await openPostgresEventStore(DATABASE_URL, { schema: 'Bad-Name' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe(
      'invalid value for schema: "Bad-Name" (expected lower-case letters, digits and _, at most 48 characters)',
    );
  });
});
