/**
 * npm run bench:state-memory — resident memory of one direct run with a fixed number of
 * orders, through the load, the snapshot and the check: what memory per order costs,
 * whatever the machine's speed (a default run's peak follows how many orders direct's
 * capacity run places, 40–90k orders/s on 2 cores; bench:memory measures that run itself).
 *
 * The direct pattern on a worker (placement shared, unless PLACEMENT), as a capacity run
 * (no journal, unless JOURNAL=1): ORDERS orders (default 200,000) by a closed loop of 16,
 * then the system's state read packed and checked as the runner does. Prints VmRSS and
 * VmHWM (the peak, reset before the snapshot) at each step; MB = 10^6 bytes. Linux only.
 *
 *   ORDERS=300000 node dist/bench/state-memory.js
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolveRunConfig } from '../src/bench/config.js';
import { PlacedLog } from '../src/bench/placed.js';
import { startRun } from '../src/bench/start.js';
import { directPattern } from '../src/patterns/direct/index.js';
import { packedStateOf } from '../src/patterns/types.js';
import { collectGarbage } from '../src/placement/gc.js';
import { ThreadPool } from '../src/placement/pool.js';
import { PLACEMENTS, type Placement } from '../src/placement/types.js';
import { checkInvariants } from '../src/workflow/invariants.js';

const ORDERS = Number(process.env.ORDERS ?? 200_000);
const CONCURRENCY = 16;

function statusMb(name: string): number {
  const text = readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1000;
}

function show(step: string): void {
  console.log(`${step.padEnd(30)} rss ${statusMb('VmRSS').toFixed(0).padStart(5)} MB  peak ${statusMb('VmHWM').toFixed(0).padStart(5)} MB`);
}

function placementOf(name: string | undefined): Placement {
  if (name === undefined) return 'shared';
  if (!(PLACEMENTS as readonly string[]).includes(name)) throw new Error(`PLACEMENT must be one of ${PLACEMENTS.join(', ')}`);
  return name as Placement;
}

async function main(): Promise<void> {
  const pool = new ThreadPool();
  pool.journal = process.env.JOURNAL === '1';
  const started = await startRun(directPattern, resolveRunConfig({ placement: placementOf(process.env.PLACEMENT) }), 1, false, pool);
  const log = new PlacedLog();
  collectGarbage();
  show('started');
  let placed = 0;
  const loop = async () => {
    while (placed < ORDERS) {
      placed++;
      const order = started.generator.next();
      const i = log.add(order, performance.now());
      try {
        const outcome = await started.running.placeOrder(order);
        log.accept(i);
        log.settle(i, outcome, performance.now());
      } catch (e) {
        log.fail(i, e, performance.now());
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  console.log(`${ORDERS.toLocaleString('en-US')} orders in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  show('orders placed');
  writeFileSync('/proc/self/clear_refs', '5'); // the peak from here on
  const t1 = performance.now();
  const snapshot = await packedStateOf(started.running);
  show('state on the main thread');
  const checked = checkInvariants({ placed: log.eachOrder(), accepted: log.acceptedLookup(), snapshot });
  show('checked');
  console.log(`state and check: ${(performance.now() - t1).toFixed(0)} ms, invariants ${checked.ok ? 'OK' : 'BROKEN'}`);
  await started.running.stop();
  await pool.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
