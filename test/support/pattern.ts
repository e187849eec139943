import { PlacedLog } from '../../src/bench/placed.js';
import { runLoad, type LoadShape } from '../../src/bench/loadgen.js';
import type { ThreadPool } from '../../src/placement/pool.js';
import { DIRECT_NETWORK, type Network, type Pattern, type PatternOptions, type RunningPattern } from '../../src/patterns/types.js';
import { seededRandom } from '../../src/random.js';
import { OrderGenerator, type GeneratorOptions } from '../../src/workflow/generator.js';
import { checkInvariants, type InvariantReport } from '../../src/workflow/invariants.js';

/** Start a pattern the way the runner does, with a fresh seeded world. */
export async function startPattern(
  pattern: Pattern,
  options: Partial<PatternOptions> = {},
  network: Network = DIRECT_NETWORK,
  seed = 42,
  threads?: ThreadPool,
  /** The orders' mix: e.g. `{ scarceStock: 0 }` makes every order for a scarce SKU a stock-out from the first. */
  orders: GeneratorOptions = {},
): Promise<{ running: RunningPattern; generator: OrderGenerator }> {
  const random = seededRandom(seed);
  const generator = new OrderGenerator(random.fork(), orders);
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
  /** `log`: the orders of earlier loads on the same system, so that a check after several loads knows all of them. */
  opts: { durationMs: number; shape?: LoadShape; drainMs?: number; at?: { ms: number; action: () => Promise<void> | void }; log?: PlacedLog },
): Promise<{ invariants: InvariantReport; placed: number; failed: number }> {
  // A fault that fails to apply fails the test: a crash that never happened proves nothing.
  let actionFailed: { error: unknown } | undefined;
  let acted: Promise<void> | undefined;
  const timer = opts.at
    ? setTimeout(() => {
        acted = Promise.resolve()
          .then(() => opts.at?.action())
          .catch((error: unknown) => void (actionFailed = { error }));
      }, opts.at.ms)
    : undefined;
  const load = await runLoad(running, {
    shape: opts.shape ?? { kind: 'closed', concurrency: 16 },
    warmupMs: 0,
    durationMs: opts.durationMs,
    drainTimeoutMs: opts.drainMs ?? 10_000,
    nextOrder: () => generator.next(),
    ...(opts.log ? { log: opts.log } : {}),
  });
  if (timer) clearTimeout(timer);
  await acted;
  if (actionFailed) throw new Error(`the action at ${opts.at?.ms} ms failed`, { cause: actionFailed.error });
  const drainable = running as Partial<{ drain(ms: number): Promise<void> }>;
  if (drainable.drain) await drainable.drain(opts.drainMs ?? 10_000);
  const invariants = checkInvariants({ placed: load.placed.orders(), accepted: load.placed.acceptedIds(), snapshot: await running.snapshot() });
  return { invariants, placed: load.placed.size, failed: load.outcomes.failed + load.outcomes.timedOut };
}
