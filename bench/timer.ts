/**
 * npm run bench:timer — how late the open loop sends orders behind their intended start.
 *
 * Drives a trivial target (each order confirmed on the next tick) at several rates, open
 * loop, and prints the scheduler's lateness per rate. The goal is p99 under 1 ms on an idle
 * machine: the timer sleeps with setTimeout until shortly before each start, then polls.
 * The figures are whatever this machine measures now; nothing here is a reference value.
 */
import Table from 'cli-table3';
import { runLoad, type LoadTarget } from '../src/bench/loadgen.js';
import { SPIN_MS } from '../src/bench/load/schedule.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';

const RATES = (process.env.RATES ?? '100,1000,5000').split(',').map(Number);
const DURATION_MS = Number(process.env.DURATION_MS ?? 2000);
const WARMUP_MS = 200;
const GOAL_P99_MS = 1;

const nextTick: LoadTarget = {
  placeOrder: (order) => new Promise((resolve) => process.nextTick(() => resolve({ orderId: order.orderId, status: 'CONFIRMED' }))),
};

const table = new Table({
  head: ['rate (orders/s)', 'sent', 'lateness p50 (ms)', 'p99 (ms)', 'max (ms)', 'offered (orders/s)', 'CPU (% of a core)', `p99 < ${GOAL_P99_MS} ms`],
  colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  style: { head: [], border: [] },
});
for (const rate of RATES) {
  const gen = new OrderGenerator(seededRandom(rate));
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const r = await runLoad(nextTick, { shape: { kind: 'open', rate }, warmupMs: WARMUP_MS, durationMs: DURATION_MS, nextOrder: () => gen.next() });
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - started;
  const late = r.schedulerLateness;
  if (!late) throw new Error('an open-loop run without scheduler lateness');
  process.stderr.write(`${rate}/s: ${late.count} orders, p99 ${late.p99} ms\n`);
  table.push([
    rate.toLocaleString('en-US'),
    late.count.toLocaleString('en-US'),
    late.p50.toFixed(3),
    late.p99.toFixed(3),
    late.max.toFixed(3),
    Math.round(r.throughput.offered ?? 0).toLocaleString('en-US'),
    (((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(0),
    late.p99 < GOAL_P99_MS ? 'yes' : 'no',
  ]);
}
console.log(table.toString());
console.log(`goal: scheduler lateness p99 < ${GOAL_P99_MS} ms at every rate (setTimeout until ${SPIN_MS} ms before each start, then setImmediate polling); window ${DURATION_MS} ms per rate`);
