import { FaultNetwork } from '../faults/network.js';
import { DIRECT_NETWORK, type Pattern, type RunningPattern } from '../patterns/types.js';
import type { ThreadPool } from '../placement/pool.js';
import { seededRandom } from '../random.js';
import { mergeWorlds, OrderGenerator } from '../workflow/generator.js';
import type { OrderRequest } from '../workflow/types.js';
import type { RunConfig } from './config.js';
import { generatorFor } from './journey-orders.js';

/** A pattern started for one run, with the orders it will be given. */
export interface StartedRun {
  readonly running: RunningPattern;
  /** The window's orders, from the first, whatever the warm-up took. */
  readonly generator: OrderGenerator;
  /** The warm-up's orders, on scarce SKUs and broke customers of its own. */
  readonly warmGenerator: OrderGenerator;
  /** The run's fault network (a proxy on every socket hop), or null when the run needs none. */
  readonly network: FaultNetwork | null;
  /** The orders `run` traces for the reports: one that is confirmed and one that is compensated (out of stock: refunded), on SKUs and customers of their own. */
  readonly journeyOrders: () => readonly OrderRequest[];
}

/** The journey orders' own stream: apart from the run's, so that their seeds and orders stay what they were. */
const JOURNEY_SEED = 0x7ace;

/**
 * Start `pattern` fresh for one run. The same seed and trial give every pattern the same
 * world and the same orders: the window's orders come from `generator` from its first,
 * whatever the warm-up took, and the warm-up's from a generator of its own, so the window
 * starts from the same stock and balances in every pattern. A fault network is made only
 * when asked for: baseline runs carry no proxy cost. On failure nothing is left open.
 */
export async function startRun(pattern: Pattern, config: RunConfig, trial: number, withNetwork: boolean, threads: ThreadPool): Promise<StartedRun> {
  const random = seededRandom(config.seed + (trial - 1) * 1_000_003);
  const generator = new OrderGenerator(random.fork(), config.generator, `t${trial}`);
  const warmGenerator = new OrderGenerator(random.fork(), config.generator, `t${trial}w`, 'warm');
  const journeyRandom = seededRandom(config.seed ^ JOURNEY_SEED);
  const journeys = (['confirmed', 'out-of-stock'] as const).map((o) => generatorFor(o, journeyRandom.fork()));
  const world = [generator.world(), warmGenerator.world(), ...journeys.map((g) => g.world())].reduce(mergeWorlds);
  const network = withNetwork ? new FaultNetwork(random.fork()) : null;
  try {
    const running = await pattern.start({
      world,
      random: random.fork(),
      options: {
        broker: config.broker,
        eventStore: config.eventStore,
        queueAck: config.queueAck,
        resilience: config.resilience,
        placement: config.placement,
      },
      network: network ?? DIRECT_NETWORK,
      threads,
    });
    return { running, generator, warmGenerator, network, journeyOrders: () => journeys.map((g) => g.next()) };
  } catch (err) {
    await network?.close();
    throw err;
  }
}
