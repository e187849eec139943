/**
 * npm run bench:repeat — is one run like the next?
 *
 * Runs the default patterns' baseline `--repeats` times in a row, each time as a fresh
 * `pattern-bench run` process (what a user gets running the tool twice), and prints the
 * spread of each pattern's orders/s: min, max and max/min. The goal is max/min ≤ 1.15.
 * Under the default equal load every pattern is offered one rate, so the orders/s that can
 * differ is each pattern's capacity (the closed-loop phase); the p99 at equal load is
 * printed with its spread too (no goal: a tail varies more than a rate).
 * Before each repeat it measures the machine itself (bench/calibrate.ts: loopback TCP round
 * trips, one thread and two), and prints that spread too: what the machine varies by
 * itself, a benchmark on top of it varies by at least.
 *
 *   node dist/bench/repeat.js [--repeats 5] [--duration 4] [any other run option…]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import { loopbackCrossThread, loopbackSameThread } from './calibrate.js';

const GOAL = 1.15;
const CLI = resolve(import.meta.dirname, '../src/cli.js');

function parseArgs(argv: readonly string[]): { repeats: number; runArgs: string[] } {
  const runArgs: string[] = [];
  let repeats = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeats') {
      repeats = Number(argv[++i]);
      if (!Number.isInteger(repeats) || repeats < 2) {
        console.error('--repeats takes an integer ≥ 2');
        process.exit(2);
      }
    } else runArgs.push(argv[i] as string);
  }
  return { repeats, runArgs };
}

function runOnce(args: readonly string[]): Promise<ResultsDocument> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--scenarios', 'baseline', '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolvePromise(JSON.parse(out) as ResultsDocument) : reject(new Error(`pattern-bench run exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const { repeats, runArgs } = parseArgs(process.argv.slice(2));
  const out = mkdtempSync(join(tmpdir(), 'pb-repeat-'));
  const rates = new Map<string, number[]>();
  const tails = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, key: string, value: number) => map.set(key, [...(map.get(key) ?? []), value]);
  try {
    for (let i = 1; i <= repeats; i++) {
      const machine = [await loopbackSameThread(), await loopbackCrossThread()];
      for (const [name, value] of [['machine: loopback round trips/s, one thread', machine[0]], ['machine: loopback round trips/s, two threads', machine[1]]] as const) {
        const list = rates.get(name) ?? [];
        list.push(value ?? 0);
        rates.set(name, list);
      }
      const doc = await runOnce([...runArgs, '--out', out]);
      const completed = doc.runs.filter((r): r is CompletedRun => r.state === 'completed');
      if (doc.capacity) for (const c of doc.capacity.runs) push(rates, c.pattern, c.achieved ?? 0);
      else for (const run of completed) push(rates, run.pattern, run.throughput.achieved);
      for (const run of completed) push(tails, run.pattern, run.latencyMs.p99);
      console.error(`repeat ${i}/${repeats}: ${[...rates].filter(([p]) => !p.startsWith('machine')).map(([p, r]) => `${p} ${Math.round(r[r.length - 1] ?? 0)}`).join(', ')}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const what = runArgs.some((a) => a === '--rate' || a === '--concurrency') ? 'orders/s' : 'capacity orders/s (closed loop)';
  const table = new Table({ head: ['pattern', `${what} of each repeat`, 'min', 'max', 'max/min', `≤ ${GOAL}`], style: { head: [], border: [] } });
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  for (const [pattern, list] of rates) {
    const min = Math.min(...list);
    const max = Math.max(...list);
    const ratio = max / min;
    table.push([pattern, list.map(fmt).join(', '), fmt(min), fmt(max), ratio.toFixed(2), ratio <= GOAL ? 'yes' : 'NO']);
  }
  const tailTable = new Table({ head: ['pattern', 'p99 ms of each repeat', 'max/min'], style: { head: [], border: [] } });
  for (const [pattern, list] of tails) tailTable.push([pattern, list.map((x) => x.toFixed(2)).join(', '), (Math.max(...list) / Math.min(...list)).toFixed(2)]);
  console.log(`${repeats} repeats of the default patterns' baseline, each a fresh process${runArgs.length > 0 ? ` (${runArgs.join(' ')})` : ''}`);
  console.log(table.toString());
  console.log(tailTable.toString());
}

await main();
