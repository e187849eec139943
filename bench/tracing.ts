/**
 * npm run bench:tracing — what tracing costs a measured run.
 *
 * Every pattern, baseline, closed loop at the capacity phase's concurrency, placement as
 * the run's default, in one run: tracing off (no tracer provider: the API's no-op path,
 * what every default run measures with), `--trace-sample 0.01` (a provider and context
 * manager registered on every thread, 1% of the orders traced), and `--trace-sample 1`
 * (every order traced: what a fully traced system pays). Rounds alternate the order of the
 * variants; the table shows medians, and each variant's orders/s against off. The last
 * lines are the geometric means of those ratios over the patterns, and what the no-op
 * path costs per call with tracing off (the calls every hop makes to carry and continue a
 * trace), timed over a million calls each: the README quotes them.
 *
 *   node dist/bench/tracing.js [--rounds 3] [--duration 2] [--patterns a,b]
 */
import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { DEFAULTS, resolveRunConfig } from '../src/bench/config.js';
import type { CompletedRun } from '../src/bench/results.js';
import { Runner } from '../src/bench/runner.js';
import { medianWithCi } from '../src/bench/stats.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { eventTraceMetadata, extractTrace, injectTrace, withSpan } from '../src/tracing/index.js';

const median = (xs: readonly number[]): number => medianWithCi(xs)?.median ?? 0;
const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(Math.max(x, 1e-9)), 0) / xs.length);

const VARIANTS = [
  { label: 'off', sample: 0 },
  // A provider and context manager on every thread, (almost) no order traced: what recording costs before any span.
  { label: 'tracer on, none sampled', sample: 1e-9 },
  { label: 'sample 0.01', sample: 0.01 },
  { label: 'sample 1', sample: 1 },
] as const;
type Variant = (typeof VARIANTS)[number];

interface Options {
  rounds: number;
  durationS: number;
  patterns: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { rounds: 3, durationS: 2, patterns: PATTERNS.map((p) => p.id) };
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

async function measure(variant: Variant, options: Options): Promise<CompletedRun[]> {
  const config = resolveRunConfig({
    patterns: options.patterns,
    scenarios: 'baseline',
    duration: options.durationS,
    concurrency: DEFAULTS.capacityConcurrency,
    traceSample: variant.sample,
    out: false,
  });
  const doc = await new Runner({ ...config, sequentialMs: 0 }).run();
  return doc.runs.filter((r): r is CompletedRun => r.state === 'completed');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const rates = new Map<string, number[]>();
  const rate = (pattern: string, v: Variant) => {
    const key = `${pattern}/${v.label}`;
    const xs = rates.get(key) ?? [];
    rates.set(key, xs);
    return xs;
  };
  console.error(`tracing bench: ${options.patterns.length} patterns × ${VARIANTS.length} variants, ${options.durationS} s each, ${options.rounds} round(s)`);
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      for (const run of await measure(variant, options)) rate(run.pattern, variant).push(run.throughput.achieved);
      console.error(`round ${round + 1}: ${variant.label} done`);
    }
  }
  const off = VARIANTS[0];
  const table = new Table({ head: ['pattern', ...VARIANTS.map((v) => `${v.label}: orders/s${v === off ? '' : ' (vs off)'}`)], style: { head: [], border: [] } });
  const ratios = new Map<string, number[]>(VARIANTS.map((v) => [v.label, []]));
  for (const pattern of options.patterns) {
    const base = median(rate(pattern, off));
    table.push([
      pattern,
      ...VARIANTS.map((v) => {
        const m = median(rate(pattern, v));
        if (m === 0) return 'errored';
        if (v === off) return Math.round(m).toLocaleString('en-US');
        ratios.get(v.label)?.push(m / base);
        return `${Math.round(m).toLocaleString('en-US')} (${pct(m / base)})`;
      }),
    ]);
  }
  console.log(`tracing off vs sampled, baseline, closed loop of ${DEFAULTS.capacityConcurrency}, ${options.durationS} s per run; medians of ${options.rounds} round(s)`);
  console.log(table.toString());
  for (const v of VARIANTS.slice(1)) console.log(`${v.label} vs off, geometric mean over the patterns: ${pct(geomean(ratios.get(v.label) ?? []))} orders/s`);
  noopPath();
}

/** ns per call of what a hop does with tracing off: nothing to carry, nothing to continue. */
function noopPath(): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const calls: [string, () => unknown][] = [
    ['injectTrace(headers): the sender', () => injectTrace(headers)],
    ['extractTrace(headers): the receiver', () => extractTrace(headers)],
    ['withSpan(…, fn): a service\'s part', () => withSpan('x', { service: 'orders', operation: 'op' }, () => 1)],
    ['eventTraceMetadata(): an append', () => eventTraceMetadata()],
  ];
  const table = new Table({ head: ['tracing off: call', 'ns per call'], style: { head: [], border: [] } });
  for (const [name, fn] of calls) {
    for (let i = 0; i < 100_000; i++) fn(); // warm
    const n = 1_000_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    table.push([name, (((performance.now() - t0) * 1e6) / n).toFixed(1)]);
  }
  console.log(table.toString());
}

const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

await main();
