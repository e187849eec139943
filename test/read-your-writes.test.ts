/**
 * Read-your-writes in the real patterns (issue #16), through the load generator as a run
 * drives them: the patterns that read their write side never show a completed order stale;
 * event sourcing, whose client learns the outcome from the log and reads the lagging read
 * model, does — for about as long as the projection lags.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ConsistencyResult } from '../src/bench/load/consistency.js';
import { runLoad } from '../src/bench/loadgen.js';
import { ThreadPool } from '../src/placement/pool.js';
import { createEventSourcingPattern } from '../src/patterns/event-sourcing/index.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { isOrderReader, type Pattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { startPattern } from './support/pattern.js';

const pool = new ThreadPool();
afterAll(() => pool.close());

/** A short closed loop with a share of reads; every completed order of the window is read back by its client. */
async function consistencyOf(pattern: Pattern, durationMs = 600): Promise<ConsistencyResult> {
  const { running, generator } = await startPattern(pattern, { placement: 'shared' }, undefined, 7, pool);
  try {
    if (!isOrderReader(running)) throw new Error(`${pattern.id} has no read side`);
    const load = await runLoad(running, {
      shape: { kind: 'closed', concurrency: 4 },
      warmupMs: 0,
      durationMs,
      nextOrder: () => generator.next(),
      reads: { share: 0.2, random: seededRandom(3), read: (customerId) => running.customerOrders(customerId) },
    });
    if (!load.reads) throw new Error('no reads recorded');
    return load.reads.consistency;
  } finally {
    await running.stop();
  }
}

describe('read-your-writes', () => {
  const writeSide = PATTERNS.filter((p) => p.id !== 'event-sourcing');

  it.each(writeSide.map((p) => [p.id, p] as const))('%s reads its write side: no completed order is ever read stale', async (_id, pattern) => {
    const c = await consistencyOf(pattern);
    expect(c.checked).toBeGreaterThan(10);
    expect(c).toMatchObject({ stale: 0, unresolved: 0, reReads: 0, readErrors: 0 });
    expect(c.timeToConsistency.count).toBe(c.checked);
    expect(c.timeToConsistency.max).toBeLessThanOrEqual(0.001);
  }, 30_000);

  it('event sourcing with a projection held back 40 ms and 160 ms: most orders read stale, and the time to consistency follows the delay', async () => {
    const at = async (delayMs: number) => consistencyOf(createEventSourcingPattern({ projectionDelayMs: delayMs }), 800);
    const short = await at(40);
    const long = await at(160);
    for (const [c, delayMs] of [
      [short, 40],
      [long, 160],
    ] as const) {
      expect(c.checked).toBeGreaterThan(5);
      expect(c.unresolved).toBe(0);
      // The client hears the outcome from the log within a few ms; the read model shows it delayMs after the log has it.
      expect(c.stale / c.checked).toBeGreaterThan(0.9);
      expect(c.reReads).toBeGreaterThan(c.stale);
      expect(c.timeToConsistency.p50).toBeGreaterThan(delayMs / 2);
    }
    // Four times the delay: the time to consistency grows by about the 120 ms added.
    expect(long.timeToConsistency.p50 - short.timeToConsistency.p50).toBeGreaterThan(60);
  }, 60_000);
});
