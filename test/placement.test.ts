/**
 * One placement model for every pattern: `same-thread` keeps the whole system on the load
 * generator's loop, `shared` puts all of it on one worker, `per-service` gives every part
 * (each service, the broker, the event store, each processor, the projection, the
 * orchestrator) a thread of its own. The client side always stays on the main thread.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ThreadPool } from '../src/placement/pool.js';
import { PLACEMENTS, type Placement } from '../src/placement/types.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { isThreadReporter } from '../src/patterns/types.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { startPattern } from './support/pattern.js';

/** The parts of each pattern's system, in the order it starts them. */
const COMPONENTS: Readonly<Record<string, readonly string[]>> = {
  direct: ['monolith'],
  rest: ['inventory', 'payments', 'notifications', 'orders'],
  grpc: ['inventory', 'payments', 'notifications', 'orders'],
  'grpc-stream': ['inventory', 'payments', 'notifications', 'orders'],
  queue: ['broker', 'orders', 'inventory', 'payments', 'notifications'],
  'saga-choreography': ['broker', 'orders', 'inventory', 'payments', 'notifications'],
  'event-sourcing': ['store', 'orders', 'payments', 'inventory', 'notifications', 'projection'],
  'saga-orchestration': ['store', 'inventory', 'payments', 'notifications', 'orchestrator'],
};

function expectedThreads(placement: Placement, components: readonly string[]): { thread: string; components: string[] }[] {
  if (placement === 'same-thread') return [{ thread: 'main', components: [...components] }];
  if (placement === 'shared') return [{ thread: 'system', components: [...components] }];
  return components.map((c) => ({ thread: c, components: [c] }));
}

const pool = new ThreadPool();
afterAll(() => pool.close());

describe.each(PATTERNS.map((p) => p.id))('%s', (id) => {
  it.each(PLACEMENTS)('runs every part where %s says, keeps its invariants, and names the placement', async (placement) => {
    const pattern = PATTERNS.find((p) => p.id === id);
    if (!pattern) throw new Error(id);
    const { running, generator } = await startPattern(pattern, { placement }, undefined, 42, pool);
    try {
      expect(running.transport.placement).toBe(placement);
      if (!isThreadReporter(running)) throw new Error(`${id} does not report its threads`);
      const threads = running.threads().map((u) => ({ thread: u.thread.name, components: [...u.components] }));
      expect(threads).toEqual(expectedThreads(placement, COMPONENTS[id] ?? []));
      // Off the main thread unless same-thread: the load generator's loop carries no part of the system.
      expect(running.threads().some((u) => u.thread.isMain)).toBe(placement === 'same-thread');
      const placed = Array.from({ length: 30 }, () => generator.next());
      await Promise.all(placed.map((o) => running.placeOrder(o)));
      const drainable = running as Partial<{ drain(ms: number): Promise<void> }>;
      await drainable.drain?.(5000);
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: await running.snapshot() });
      expect(report).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    } finally {
      await running.stop();
    }
  }, 30_000);
});
