import pg from 'pg';

const open = new WeakMap<pg.Pool, Set<pg.PoolClient>>();

/**
 * A pool whose `endPool` waits until every connection's socket has closed: pg-pool's own
 * `end()` resolves as soon as it has asked its idle clients to end, with their sockets
 * still open, and a store's `close()` promises that nothing it opened is left.
 */
export function createPool(config: pg.ClientConfig, max: number): pg.Pool {
  const pool = new pg.Pool({ ...config, max, idleTimeoutMillis: 10_000 });
  const clients = new Set<pg.PoolClient>();
  open.set(pool, clients);
  pool.on('connect', (client) => {
    clients.add(client);
    client.once('end', () => clients.delete(client));
  });
  // An idle pooled connection that drops is reported here; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** Ends the pool and resolves once every connection it opened has closed. */
export async function endPool(pool: pg.Pool): Promise<void> {
  const clients = open.get(pool) ?? new Set<pg.PoolClient>();
  const closed = [...clients].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())));
  await pool.end();
  await Promise.all(closed);
}
