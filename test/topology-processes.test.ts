/**
 * `--topology processes`: every part of a pattern's system — every pattern; rest, grpc, queue
 * and saga-orchestration are the acceptance — in a child process of its own
 * (per-service naming), reached over loopback through the run's network, its state read
 * for the invariants from the child. Runs from the TypeScript sources, so the children
 * load the .ts files through ts-register.mjs, as worker threads do under vitest.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { Runner } from '../src/bench/runner.js';
import { ThreadPool } from '../src/placement/pool.js';
import { isProcessThread } from '../src/placement/process-thread.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { isThreadReporter } from '../src/patterns/types.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { startPattern } from './support/pattern.js';

/** The parts of each pattern's system, in the order it starts them (as test/placement.test.ts has them). */
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

/** Whether process `pid` still exists (signal 0 only checks). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('topology processes', () => {
  const pool = new ThreadPool({ topology: 'processes' });
  const pids = new Set<number>();
  afterAll(async () => {
    await pool.close();
    // close() resolves once every child has exited.
    expect([...pids].filter(exists)).toEqual([]);
  });

  it.each(PATTERNS.map((p) => p.id))('%s: every part in a child process of its own, invariants OK', async (id) => {
    const pattern = PATTERNS.find((p) => p.id === id);
    if (!pattern) throw new Error(id);
    const { running, generator } = await startPattern(pattern, { placement: 'per-service' }, undefined, 42, pool);
    try {
      if (!isThreadReporter(running)) throw new Error(`${id} does not report its threads`);
      const uses = running.threads();
      expect(uses.map((u) => ({ thread: u.thread.name, components: [...u.components] }))).toEqual((COMPONENTS[id] ?? []).map((c) => ({ thread: c, components: [c] })));
      const children = uses.map((u) => u.thread).filter(isProcessThread);
      expect(children).toHaveLength(uses.length);
      const own = new Set(children.map((c) => c.pid));
      expect(own.size).toBe(children.length);
      expect(own.has(process.pid)).toBe(false);
      for (const pid of own) pids.add(pid);
      // The child reads itself: its own CPU time and event loop.
      const usage = await children[0]?.usage();
      expect(usage?.cpuMs).toBeGreaterThan(0);
      expect((usage?.elu.active ?? 0) + (usage?.elu.idle ?? 0)).toBeGreaterThan(0);

      const placed = Array.from({ length: 40 }, () => generator.next());
      await Promise.all(placed.map((o) => running.placeOrder(o)));
      const drainable = running as Partial<{ drain(ms: number): Promise<void> }>;
      await drainable.drain?.(5000);
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: await running.snapshot() });
      expect(report).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    } finally {
      await running.stop();
    }
  }, 60_000);

  it('keeps one child per name from pattern to pattern (like per-service threads)', async () => {
    const before = await pool.processes();
    expect(before.map((p) => p.name).sort()).toEqual(['broker', 'inventory', 'monolith', 'notifications', 'orchestrator', 'orders', 'payments', 'projection', 'store']);
    expect(new Set(before.map((p) => p.pid)).size).toBe(before.length);
  });
});

describe('a run under topology processes', () => {
  it('plays a fault between the processes (payments down), heals, and checks the invariants on the children\'s state', async () => {
    const config = resolveRunConfig({ patterns: 'rest', scenarios: 'outage', topology: 'processes', quick: true, rate: 100, duration: 2, warmup: 0.1, out: false });
    expect(config.placement).toBe('per-service');
    const doc = await new Runner({ ...config, sequentialMs: 0 }).run();
    const run = doc.runs[0];
    if (run?.state !== 'completed') throw new Error(`the run ${run?.state}: ${JSON.stringify(run)}`);
    expect(run.invariants.ok).toBe(true);
    // The outage reached the pattern through the proxy in this process, and orders — in its own
    // process — counted the failed calls to payments (read over the IPC channel).
    expect(run.failure?.applied).toBe(true);
    expect(run.hops?.some((h) => h.hop === 'rest:payments')).toBe(true);
    expect(Object.entries(run.hopErrors ?? {}).some(([kind, n]) => kind.startsWith('charge:') && n > 0)).toBe(true);
    expect(run.outcomes.failed + run.outcomes.cancelled).toBeGreaterThan(0);
    const system = run.threads.filter((t) => t.role === 'system');
    expect(system.map((t) => t.name)).toEqual(['inventory', 'payments', 'notifications', 'orders']);
    for (const t of system) {
      expect(t.pid).toBeGreaterThan(0);
      expect(t.cpuMs).toBeGreaterThan(0);
    }
  }, 60_000);
});
