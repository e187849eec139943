import pg from 'pg';
import { REQUIRE_SERVICES, serviceUrl } from './services.js';

/**
 * The event stores an event-sourcing test runs against: memory always, PostgreSQL when
 * DATABASE_URL is set and answers. With PB_REQUIRE_SERVICES=1 an unreachable database
 * is not skipped: the PostgreSQL tests then run and fail on open.
 */
export const DATABASE_URL = serviceUrl('DATABASE_URL');

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

/** Whether the PostgreSQL variants run (and, with PB_REQUIRE_SERVICES=1, must pass). */
export const POSTGRES_RUNS: boolean = DATABASE_URL !== undefined && DATABASE_URL !== '' && (REQUIRE_SERVICES || (await reachable(DATABASE_URL)));

export const EVENT_STORES: readonly string[] = [
  'memory',
  ...(POSTGRES_RUNS && DATABASE_URL !== undefined ? [DATABASE_URL] : []),
];

export const storeName = (spec: string): string => (spec === 'memory' ? 'memory store' : 'PostgreSQL');
