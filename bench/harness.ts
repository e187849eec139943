/**
 * npm run bench:harness — the load generator's own cost.
 *
 * Drives a no-op workflow (placeOrder resolves at once) two ways, in alternating rounds
 * within one run: through pattern-bench's closed-loop load generator (histogram,
 * outcome counting, window bookkeeping) and through a bare loop that makes the same calls
 * (same order generator, same concurrency) and only counts. The ratio says how much of
 * the ceiling the generator keeps; the difference of the per-order times is what the
 * generator costs per order.
 */
import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { runLoad, type LoadTarget } from '../src/bench/loadgen.js';
import { medianWithCi } from '../src/bench/stats.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION_MS = Number(process.env.DURATION_MS ?? 2000);
const CONCURRENCY = 10;

const noop: LoadTarget = { placeOrder: async (order) => ({ orderId: order.orderId, status: 'CONFIRMED' }) };

async function viaGenerator(seed: number): Promise<number> {
  const gen = new OrderGenerator(seededRandom(seed));
  const r = await runLoad(noop, { shape: { kind: 'closed', concurrency: CONCURRENCY }, warmupMs: 300, durationMs: DURATION_MS, nextOrder: () => gen.next() });
  return r.throughput.achieved;
}

async function bareLoop(seed: number): Promise<number> {
  const gen = new OrderGenerator(seededRandom(seed));
  let count = 0;
  const worker = async (until: number, counting: boolean) => {
    while (performance.now() < until) {
      await noop.placeOrder(gen.next());
      if (counting) count++;
    }
  };
  const warm = performance.now() + 300;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(warm, false)));
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(start + DURATION_MS, true)));
  return count / ((performance.now() - start) / 1000);
}

const gen: number[] = [];
const bare: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first so that drift on a noisy machine hits both alike.
  if (round % 2 === 0) {
    gen.push(await viaGenerator(round));
    bare.push(await bareLoop(round));
  } else {
    bare.push(await bareLoop(round));
    gen.push(await viaGenerator(round));
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS}: generator ${Math.round(gen[round] ?? 0)}/s, bare ${Math.round(bare[round] ?? 0)}/s\n`);
}

const g = medianWithCi(gen);
const b = medianWithCi(bare);
if (!g || !b) throw new Error('no rounds ran');
const ratios = gen.map((v, i) => v / (bare[i] ?? v));
const ratio = medianWithCi(ratios);
const usPerOrder = 1e6 / g.median - 1e6 / b.median;

const table = new Table({ head: ['loop', 'orders/s (median)', 'range', 'µs/order'], colAligns: ['left', 'right', 'right', 'right'], style: { head: [], border: [] } });
table.push(['load generator (closed, 10)', Math.round(g.median).toLocaleString('en-US'), `${Math.round(g.low)}–${Math.round(g.high)}`, (1e6 / g.median).toFixed(2)]);
table.push(['bare loop, same calls', Math.round(b.median).toLocaleString('en-US'), `${Math.round(b.low)}–${Math.round(b.high)}`, (1e6 / b.median).toFixed(2)]);
console.log(table.toString());
console.log(`ratio generator / bare loop: ${ratio?.median.toFixed(3)} (median of ${ROUNDS} paired rounds, range ${ratio?.low.toFixed(3)}–${ratio?.high.toFixed(3)})`);
console.log(`load generator cost: ${usPerOrder.toFixed(2)} µs per order on top of the call itself`);
