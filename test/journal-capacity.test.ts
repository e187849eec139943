/**
 * The services' journal (when each effect happened, for the journeys that explain a broken
 * invariant) is kept in measured runs only: a capacity run's violations are counted, never
 * explained, so there it would only cost throughput. The setting crosses the thread
 * boundary with each component's start.
 */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { Runner } from '../src/bench/runner.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { isPackedSnapshotReader, type Pattern } from '../src/patterns/types.js';
import { unpackSnapshot } from '../src/workflow/packed-snapshot.js';
import type { SystemSnapshot } from '../src/workflow/services.js';

function snapshotsOf(id: string, seen: SystemSnapshot[]): Pattern {
  const pattern = PATTERNS.find((p) => p.id === id) as Pattern;
  return {
    ...pattern,
    start: async (ctx) => {
      const running = await pattern.start(ctx);
      return Object.assign(Object.create(running) as typeof running, {
        snapshot: async () => {
          const snapshot = await running.snapshot();
          seen.push(snapshot);
          return snapshot;
        },
        // Where the system hands its state over packed, the runner reads it so.
        ...(isPackedSnapshotReader(running)
          ? {
              packedSnapshot: async () => {
                const packed = await running.packedSnapshot();
                seen.push(unpackSnapshot(packed));
                return packed;
              },
            }
          : {}),
      });
    },
  };
}

const timed = (s: SystemSnapshot) => ({
  ledger: s.payments.ledger.filter((e) => e.at !== undefined).length,
  notifications: s.notifications.log?.length ?? 0,
});

describe('the services\' journal', () => {
  it.each(['direct', 'rest'])('%s: a capacity run\'s services record no effect times, the measured run\'s record one for every ledger entry and notification (on the system\'s worker thread)', async (id) => {
    const seen: SystemSnapshot[] = [];
    const config = resolveRunConfig({ quick: true, duration: 0.3, warmup: 0.1, out: false, patterns: id, placement: 'shared' });
    const doc = await new Runner({ ...config, sequentialMs: 0 }, [snapshotsOf(id, seen)]).run();
    expect(doc.runs.map((r) => r.state)).toEqual(['completed']);
    expect(seen).toHaveLength(2);
    const [capacity, measured] = seen as [SystemSnapshot, SystemSnapshot];
    expect(capacity.payments.ledger.length).toBeGreaterThan(10);
    expect(timed(capacity)).toEqual({ ledger: 0, notifications: 0 });
    expect(measured.payments.ledger.length).toBeGreaterThan(10);
    expect(timed(measured)).toEqual({ ledger: measured.payments.ledger.length, notifications: measured.notifications.sent });
  }, 60_000);
});
