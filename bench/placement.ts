/**
 * npm run bench:placement — where should the system under test run by default?
 *
 * Every pattern × every placement (same-thread, shared, per-service), baseline, in one
 * run, closed loop at the capacity phase's concurrency: orders/s, p99 and the busiest thread of each. Rounds alternate the order of the
 * placements; the table shows medians. The default (src/placement/types.ts,
 * DEFAULT_PLACEMENT) is chosen from this table by a rule fixed in advance: among the
 * placements that keep the load generator on a thread of its own — so that its timing and
 * the system's cost are measured apart — the one with the highest geometric mean of
 * orders/s over the patterns. The last line applies the rule; the README quotes the command.
 *
 *   node dist/bench/placement.js [--rounds 2] [--duration 2] [--patterns a,b]
 */
import Table from 'cli-table3';
import { DEFAULTS, resolveRunConfig } from '../src/bench/config.js';
import type { CompletedRun } from '../src/bench/results.js';
import { Runner } from '../src/bench/runner.js';
import { medianWithCi } from '../src/bench/stats.js';

const median = (xs: readonly number[]): number => medianWithCi(xs)?.median ?? 0;
import { DEFAULT_PLACEMENT, PLACEMENTS, type Placement } from '../src/placement/types.js';
import { DEFAULT_PATTERNS } from '../src/patterns/registry.js';

interface Options {
  rounds: number;
  durationS: number;
  patterns: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { rounds: 2, durationS: 2, patterns: [...DEFAULT_PATTERNS] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    const n = Number(value);
    if (flag === '--rounds' && Number.isInteger(n) && n > 0) options.rounds = n;
    else if (flag === '--duration' && n > 0) options.durationS = n;
    else if (flag === '--patterns' && value.length > 0) options.patterns = value.split(',');
    else {
      console.error(`invalid option ${flag ?? ''} ${JSON.stringify(value)}`);
      process.exit(2);
    }
  }
  return options;
}

type Cell = { rate: number[]; p99: number[]; busiest: string[] };

async function measure(placement: Placement, options: Options): Promise<CompletedRun[]> {
  // A closed loop like the capacity phase's: orders/s is what each placement can carry (at
  // the default equal load every placement would be offered, and achieve, the same rate).
  const config = resolveRunConfig({ patterns: options.patterns, scenarios: 'baseline', duration: options.durationS, placement, concurrency: DEFAULTS.capacityConcurrency, out: false });
  const doc = await new Runner({ ...config, sequentialMs: 0 }).run();
  return doc.runs.filter((r): r is CompletedRun => r.state === 'completed');
}

const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(Math.max(x, 1e-9)), 0) / xs.length);

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const cells = new Map<string, Cell>();
  const cell = (pattern: string, placement: Placement) => {
    const key = `${pattern}/${placement}`;
    const c = cells.get(key) ?? { rate: [], p99: [], busiest: [] };
    cells.set(key, c);
    return c;
  };
  console.error(`placement bench: ${options.patterns.length} patterns × ${PLACEMENTS.length} placements, ${options.durationS} s each, ${options.rounds} round(s)`);
  for (let round = 0; round < options.rounds; round++) {
    for (const placement of round % 2 === 0 ? PLACEMENTS : [...PLACEMENTS].reverse()) {
      for (const run of await measure(placement, options)) {
        const c = cell(run.pattern, placement);
        c.rate.push(run.throughput.achieved);
        c.p99.push(run.latencyMs.p99);
        const b = run.cost.system.busiestThread;
        c.busiest.push(b ? `${b.name} ${Math.round(b.eventLoopUtilization * 100)}%` : '—');
      }
      console.error(`round ${round + 1}: ${placement} done`);
    }
  }
  const table = new Table({ head: ['pattern', ...PLACEMENTS.map((p) => `${p}: orders/s, p99 ms, busiest`)], style: { head: [], border: [] } });
  for (const pattern of options.patterns) {
    table.push([
      pattern,
      ...PLACEMENTS.map((p) => {
        const c = cells.get(`${pattern}/${p}`);
        if (!c || c.rate.length === 0) return 'errored';
        return `${Math.round(median(c.rate)).toLocaleString('en-US')}, ${median(c.p99).toFixed(1)}, ${c.busiest[c.busiest.length - 1]}`;
      }),
    ]);
  }
  console.log(`every pattern × every placement, baseline, closed loop of ${DEFAULTS.capacityConcurrency}, ${options.durationS} s; medians of ${options.rounds} round(s)`);
  console.log(table.toString());
  const scores = PLACEMENTS.map((p) => ({ p, score: geomean(options.patterns.map((id) => median(cells.get(`${id}/${p}`)?.rate ?? []))) }));
  for (const { p, score } of scores) console.log(`geometric mean of orders/s, ${p}: ${Math.round(score).toLocaleString('en-US')}`);
  const best = [...scores].filter(({ p }) => p !== 'same-thread').sort((a, b) => b.score - a.score)[0];
  console.log(`default by the rule (highest geometric mean with the load generator on a thread of its own): ${best?.p}`);
  const current = scores.find(({ p }) => p === DEFAULT_PLACEMENT);
  if (best && current && best.p !== current.p) {
    console.log(`the default today is ${current.p}: ${best.p} leads it by ${(((best.score - current.score) / current.score) * 100).toFixed(1)}% in this run`);
  }
}

await main();
