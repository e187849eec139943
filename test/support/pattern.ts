import { performance } from 'node:perf_hooks';
import { runLoad, type LoadShape } from '../../src/bench/loadgen.js';
import type { ThreadPool } from '../../src/placement/pool.js';
import { DIRECT_NETWORK, type Network, type Pattern, type PatternOptions, type RunningPattern } from '../../src/patterns/types.js';
import { seededRandom } from '../../src/random.js';
import { OrderGenerator } from '../../src/workflow/generator.js';
import { checkInvariants, type InvariantReport } from '../../src/workflow/invariants.js';

/** Start a pattern the way the runner does, with a fresh seeded world. */
export async function startPattern(
  pattern: Pattern,
  options: Partial<PatternOptions> = {},
  network: Network = DIRECT_NETWORK,
  seed = 42,
  threads?: ThreadPool,
): Promise<{ running: RunningPattern; generator: OrderGenerator }> {
  const random = seededRandom(seed);
  const generator = new OrderGenerator(random.fork());
  const running = await pattern.start({
    world: generator.world(),
    random: random.fork(),
    options: { broker: 'embedded', eventStore: 'memory', ...options },
    network,
    ...(threads ? { threads } : {}),
  });
  return { running, generator };
}

/**
 * Drive load for `durationMs`, calling `during(elapsedMs)` once at `atMs` (a fault), then
 * drain and check the invariants.
 */
export async function loadAndCheck(
  running: RunningPattern,
  generator: OrderGenerator,
  opts: { durationMs: number; shape?: LoadShape; drainMs?: number; at?: { ms: number; action: () => Promise<void> | void } },
): Promise<{ invariants: InvariantReport; placed: number; failed: number }> {
  const started = performance.now();
  const timer = opts.at ? setTimeout(() => void opts.at?.action(), opts.at.ms) : undefined;
  const load = await runLoad(running, {
    shape: opts.shape ?? { kind: 'closed', concurrency: 16 },
    warmupMs: 0,
    durationMs: opts.durationMs,
    drainTimeoutMs: opts.drainMs ?? 10_000,
    nextOrder: () => generator.next(),
  });
  if (timer) clearTimeout(timer);
  const drainable = running as Partial<{ drain(ms: number): Promise<void> }>;
  if (drainable.drain) await drainable.drain(opts.drainMs ?? 10_000);
  void started;
  const invariants = checkInvariants({ placed: load.placed.orders(), accepted: load.placed.acceptedIds(), snapshot: await running.snapshot() });
  return { invariants, placed: load.placed.size, failed: load.outcomes.failed + load.outcomes.timedOut };
}
