import pg from 'pg';

/**
 * The event stores an event-sourcing test runs against: memory always, PostgreSQL when
 * DATABASE_URL is set and answers. With PB_REQUIRE_SERVICES=1 an unreachable database
 * is not skipped: the PostgreSQL tests then run and fail on open.
 */
const DATABASE_URL = process.env.DATABASE_URL;
const REQUIRE_SERVICES = process.env.PB_REQUIRE_SERVICES === '1';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const EVENT_STORES: readonly string[] = [
  'memory',
  ...(DATABASE_URL !== undefined && (REQUIRE_SERVICES || (await reachable(DATABASE_URL))) ? [DATABASE_URL] : []),
];

export const storeName = (spec: string): string => (spec === 'memory' ? 'memory store' : 'PostgreSQL');
