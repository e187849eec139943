/**
 * Direct's system hands its state over packed (packedSnapshot: typed arrays, a structured
 * clone across the thread boundary): the same state as its snapshot, wherever it runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadPool } from '../src/placement/pool.js';
import { PLACEMENTS } from '../src/placement/types.js';
import { directPattern } from '../src/patterns/direct/index.js';
import { isPackedSnapshotReader, packedStateOf } from '../src/patterns/types.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { unpackSnapshot } from '../src/workflow/packed-snapshot.js';
import { startPattern } from './support/pattern.js';

const pool = new ThreadPool();
const processes = new ThreadPool({ topology: 'processes' });
afterAll(() => Promise.all([pool.close(), processes.close()]));

describe('direct: packed snapshot', () => {
  const cases = [...PLACEMENTS.flatMap((placement) => [true, false].map((journal) => [placement, journal, 'threads'] as const)), ['per-service', true, 'processes'] as const];
  it.each(cases)('is its snapshot, packed, under %s (journal %s, topology %s)', async (placement, journal, topology) => {
    const threads = topology === 'processes' ? processes : pool;
    threads.journal = journal;
    const { running, generator } = await startPattern(directPattern, { placement }, undefined, 42, threads);
    try {
      expect(isPackedSnapshotReader(running)).toBe(true);
      const placed = Array.from({ length: 60 }, () => generator.next());
      await Promise.all(placed.map((o) => running.placeOrder(o)));
      const packed = await packedStateOf(running);
      expect(packed.orders.orderId).toBeInstanceOf(Int32Array);
      const snapshot = await running.snapshot();
      expect(snapshot.orders.orders).toHaveLength(60);
      // A capacity run's services keep no journal: no history, no times.
      expect(snapshot.orders.orders[0]?.history === undefined).toBe(!journal);
      expect(unpackSnapshot(packed)).toStrictEqual(snapshot);
      const input = { placed, accepted: new Set(placed.map((o) => o.orderId)) };
      expect(checkInvariants({ ...input, snapshot: packed })).toStrictEqual(checkInvariants({ ...input, snapshot }));
      // One order the system never heard of, but told the client it took: lost, packed or not.
      const ghost = generator.next();
      const lost = checkInvariants({ placed: [...placed, ghost], accepted: new Set([...input.accepted, ghost.orderId]), snapshot: packed });
      expect(lost.offenders).toEqual({ lost: [ghost.orderId] });
    } finally {
      await running.stop();
    }
  }, 30_000);
});
