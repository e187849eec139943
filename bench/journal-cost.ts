/**
 * npm run bench:journal — what recording the journeys costs per order.
 *
 * The journeys of broken invariants need a time on every effect the services record and
 * on every order the client places (src/workflow/clock.ts, src/bench/placed.ts). This runs
 * the order workflow in process — the four services behind direct ports, the client's
 * PlacedLog — with the clock on (as every measured run records) and off (`Clock` null: no time, no
 * order history), in alternating rounds, and prints the CPU per order of each, their
 * difference, and that difference against the CPU per order of a real run. In process is
 * the cheapest the workflow gets: every pattern adds its transport on top, so the share
 * printed for the in-process workflow is an upper bound of the share in any pattern. Both
 * arms give the PlacedLog the same times (the generator's clock reads, made anyway): the
 * client's side costs the same with or without journeys, bar a few typed-array writes.
 *
 * RESULTS=path/to/results.json relates the difference to the measured runs' system CPU per
 * order in that file (the default run's figures); without it, only to the in-process cost.
 * The figures are whatever this machine measures now; nothing here is a reference value.
 */
import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import { PlacedLog } from '../src/bench/placed.js';
import type { ResultsDocument } from '../src/bench/results.js';
import { seededRandom } from '../src/random.js';
import { epochMs, type Clock } from '../src/workflow/clock.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { createServices, snapshotServices } from '../src/workflow/services.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { directPorts, runOrderWorkflow } from '../src/workflow/workflow.js';

const ORDERS = Number(process.env.ORDERS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const gc = (globalThis as { gc?: () => void }).gc;

/** Heap and typed arrays' buffers (the times live in Float64Arrays, outside the heap). */
function kept(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** One round: a fresh world, `ORDERS` orders through the workflow; CPU ns per order and heap bytes kept per order. */
async function round(clock: Clock, orders: readonly OrderRequest[], world: ReturnType<OrderGenerator['world']>): Promise<{ nsPerOrder: number; bytesPerOrder: number | null }> {
  gc?.();
  const heapBefore = kept();
  const cpu = process.cpuUsage();
  const services = createServices(world, clock);
  const ports = directPorts(services);
  // The client's side: the times the load generator reads anyway (two per order), handed to the log.
  const log = new PlacedLog();
  for (const order of orders) {
    const index = log.add(order, performance.now());
    const outcome = await runOrderWorkflow(services.orders, ports, order);
    log.accept(index);
    log.settle(index, outcome, performance.now());
  }
  const used = process.cpuUsage(cpu);
  gc?.();
  const bytesPerOrder = gc ? (kept() - heapBefore) / orders.length : null;
  // Keep the state alive until it is measured.
  if (snapshotServices(services).orders.orders.length !== orders.length || log.size !== orders.length) throw new Error('orders went missing');
  return { nsPerOrder: ((used.user + used.system) * 1000) / orders.length, bytesPerOrder };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Per pattern at capacity: the busiest system thread's busy time per order, µs (its
 * event-loop utilisation over the orders/s achieved) — what recording would compete with
 * where a pattern is at its limit. Capacity runs keep no journal (their violations are
 * counted, not explained), so this is what recording there would cost, not what it costs.
 */
function capacityCosts(doc: ResultsDocument): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of doc.capacity?.runs ?? []) {
    if (r.state !== 'completed' || !r.achieved || !r.busiestThread) continue;
    out.set(`${r.pattern} / capacity`, (r.busiestThread.eventLoopUtilization * 1e6) / r.achieved);
  }
  return out;
}

/** The measured runs' system CPU per order, µs, by pattern and scenario (the lowest where trials differ). */
function runCosts(doc: ResultsDocument): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of doc.runs) {
    if (r.state !== 'completed') continue;
    const us = r.cost.system.cpuMicrosPerOrder ?? r.cost.cpuMicrosPerOrder;
    if (us !== null) out.set(`${r.pattern} / ${r.scenario}`, Math.min(out.get(`${r.pattern} / ${r.scenario}`) ?? Infinity, us));
  }
  return out;
}

const gen = new OrderGenerator(seededRandom(7));
const world = gen.world();
const orders = Array.from({ length: ORDERS }, () => gen.next());
const on: { nsPerOrder: number; bytesPerOrder: number | null }[] = [];
const off: { nsPerOrder: number; bytesPerOrder: number | null }[] = [];
// Two rounds each to warm the JIT, not counted; then alternate so that drift hits both arms alike.
for (let i = 0; i < 2; i++) {
  await round(epochMs, orders, world);
  await round(null, orders, world);
}
for (let i = 0; i < ROUNDS; i++) {
  const first = i % 2 === 0;
  (first ? on : off).push(await round(first ? epochMs : null, orders, world));
  (first ? off : on).push(await round(first ? null : epochMs, orders, world));
  process.stderr.write(`round ${i + 1}/${ROUNDS}\n`);
}

const onNs = median(on.map((r) => r.nsPerOrder));
const offNs = median(off.map((r) => r.nsPerOrder));
const extraNs = onNs - offNs;
const bytes = (rs: typeof on) => (gc ? median(rs.map((r) => r.bytesPerOrder ?? 0)) : null);
const table = new Table({ head: ['', 'CPU ns/order (median)', 'heap bytes kept/order'], colAligns: ['left', 'right', 'right'], style: { head: [], border: [] } });
table.push(['clock off (no journeys)', offNs.toFixed(0), bytes(off)?.toFixed(0) ?? 'run with --expose-gc']);
table.push(['clock on (as measured runs)', onNs.toFixed(0), bytes(on)?.toFixed(0) ?? '—']);
table.push(['difference', extraNs.toFixed(0), gc ? ((bytes(on) ?? 0) - (bytes(off) ?? 0)).toFixed(0) : '—']);
console.log(table.toString());
console.log(`in-process workflow: recording costs ${((extraNs / offNs) * 100).toFixed(1)}% of its CPU per order (${ORDERS.toLocaleString('en-US')} orders × ${ROUNDS} rounds per arm) — an upper bound for any pattern`);
if (process.env.RESULTS) {
  const doc = JSON.parse(readFileSync(process.env.RESULTS, 'utf8')) as ResultsDocument;
  for (const [key, us] of capacityCosts(doc)) {
    console.log(`${key}: busiest system thread ${us.toFixed(1)} µs busy per order → recording would be ${((extraNs / 1000 / us) * 100).toFixed(1)}% of it (capacity runs keep no journal)`);
  }
  for (const [key, us] of runCosts(doc)) {
    console.log(`${key}: system CPU ${us.toFixed(0)} µs/order → recording ${((extraNs / 1000 / us) * 100).toFixed(2)}% of it`);
  }
}
