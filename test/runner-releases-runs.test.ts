import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { Runner } from '../src/bench/runner.js';
import { collectGarbage } from '../src/placement/gc.js';
import { PATTERNS } from '../src/patterns/registry.js';
import type { Pattern } from '../src/patterns/types.js';

const direct = PATTERNS.find((p) => p.id === 'direct') as Pattern;

/** direct, with a weak reference to every system it started and every snapshot it handed over. */
function watched(refs: WeakRef<object>[]): Pattern {
  return {
    ...direct,
    start: async (ctx) => {
      const running = await direct.start(ctx);
      refs.push(new WeakRef(running));
      return {
        transport: running.transport,
        placeOrder: (order) => running.placeOrder(order),
        snapshot: async () => {
          const snapshot = await running.snapshot();
          refs.push(new WeakRef(snapshot));
          return snapshot;
        },
        stop: () => running.stop(),
      };
    },
  };
}

describe('runner: each run releases its state', () => {
  it('drops every run\'s system and snapshot once the run ends, and collects the garbage after each run', async () => {
    const refs: WeakRef<object>[] = [];
    const forced: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as PerformanceEntry & { detail?: { kind: number; flags: number } }).detail;
        if (detail && detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) forced.push(e);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const config = resolveRunConfig({ quick: true, duration: 0.2, warmup: 0.05, out: false, patterns: 'direct', placement: 'same-thread', trials: 2 });
    const runner = new Runner({ ...config, sequentialMs: 0 }, [watched(refs)]);
    const doc = await runner.run();
    await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries are delivered asynchronously
    observer.disconnect();

    expect(doc.runs.map((r) => r.state)).toEqual(['completed', 'completed']);
    // capacity + two trials: a system and a snapshot each.
    expect(refs).toHaveLength(6);
    // One forced full collection per run (capacity and both trials), on the load generator's thread.
    expect(forced.length).toBeGreaterThanOrEqual(3);
    // The runner and the results document are still held here; no run's system or state is.
    await tick(); // a WeakRef's target is kept until the end of the job that dereferenced it
    collectGarbage();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(runner.config.patterns).toEqual(['direct']);
  });
});
