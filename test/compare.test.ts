import { describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import { ConfigsDifferError } from '../src/errors.js';
import { compareDocuments, configDifferences, differenceLines, environmentDifferences, renderComparison } from '../src/report/compare.js';
import { completedRun, latency, resultsDoc } from './support/results.js';

const NAMES = ['old.json', 'new.json'] as const;

/** `n` trials of one pattern × scenario; `figures(i)` gives trial i's (0-based) throughput and latency. */
function trials(n: number, figures: (i: number) => { achieved: number; p50: number; p99: number }, base: Partial<CompletedRun> = {}): CompletedRun[] {
  return Array.from({ length: n }, (_, i) => {
    const f = figures(i);
    return completedRun({ ...base, trial: i + 1, throughput: { target: null, offered: null, achieved: f.achieved }, latencyMs: latency(f.p50, f.p99) });
  });
}

const steady = (i: number) => ({ achieved: [1000, 1010, 990, 1005, 995][i] as number, p50: 5 + i * 0.1, p99: 20 + i });
const faster = (i: number) => ({ achieved: [1200, 1210, 1190, 1205, 1195][i] as number, p50: 4 + i * 0.1, p99: 15 + i });

/** The table line of one pattern × scenario and figure. */
function line(out: string, key: string, figure: string): string {
  const found = out.split('\n').find((l) => l.includes(key) && l.includes(` ${figure} `));
  if (!found) throw new Error(`no line for ${key} ${figure} in:\n${out}`);
  return found;
}

describe('compare: identical trials', () => {
  const a = resultsDoc(trials(3, steady));
  const b = resultsDoc(trials(3, steady));

  it('judges every figure "~" with p = 1', () => {
    const rows = compareDocuments(a, b);
    expect(rows.map((r) => [r.key, r.figure, r.verdict, r.p, r.delta])).toEqual([
      ['rest / baseline', 'throughput', '~', 1, 0],
      ['rest / baseline', 'p50', '~', 1, 0],
      ['rest / baseline', 'p99', '~', 1, 0],
    ]);
    expect(rows[0]?.old).toEqual([1000, 1010, 990]);
  });

  it('prints "~" and p=1.000 n=3+3 on every row, and says 3+3 cannot reach p<0.05', () => {
    const out = renderComparison(a, b, NAMES);
    for (const figure of ['orders/s', 'p50 ms', 'p99 ms']) expect(line(out, 'rest / baseline', figure)).toMatch(/│\s+~\s+│ p=1\.000 n=3\+3\s+│/);
    expect(out).toContain('3+3 trials cannot reach p<0.05 (the smallest possible p is 0.100); run with --trials 5');
  });

  it('says "same machine, Node and config" when nothing differs', () => {
    expect(renderComparison(a, b, NAMES)).toContain('\nsame machine, Node and config');
    expect(configDifferences(a, b)).toEqual([]);
  });
});

describe('compare: a clear change over 5 trials a side', () => {
  const a = resultsDoc(trials(5, steady));
  const b = resultsDoc(trials(5, faster));

  it('finds throughput better by +20% at p = 2/252, and both latencies better with a negative delta', () => {
    const [tput, p50, p99] = compareDocuments(a, b);
    expect(tput).toMatchObject({ figure: 'throughput', verdict: 'better', tooFew: false });
    expect(tput?.delta).toBeCloseTo(20, 6);
    expect(tput?.p).toBeCloseTo(2 / 252, 12);
    expect(p50).toMatchObject({ figure: 'p50', verdict: 'better' });
    expect(p50?.delta).toBeCloseTo(((4.2 - 5.2) / 5.2) * 100, 6);
    expect(p99).toMatchObject({ figure: 'p99', verdict: 'better' });
    expect(p99?.delta).toBeCloseTo(((17 - 22) / 22) * 100, 6);
  });

  it('prints the signed deltas with p=0.008 n=5+5 and no trial-count line', () => {
    const out = renderComparison(a, b, NAMES);
    expect(line(out, 'rest / baseline', 'orders/s')).toMatch(/│\s+\+20\.0%\s+│ p=0\.008 n=5\+5\s+│/);
    expect(line(out, 'rest / baseline', 'p50 ms')).toMatch(/│\s+-19\.2%\s+│ p=0\.008 n=5\+5\s+│/);
    expect(line(out, 'rest / baseline', 'p99 ms')).toMatch(/│\s+-22\.7%\s+│ p=0\.008 n=5\+5\s+│/);
    expect(out).not.toContain('run with --trials');
  });

  it('judges the same change the other way round as worse', () => {
    expect(compareDocuments(b, a).map((r) => r.verdict)).toEqual(['worse', 'worse', 'worse']);
  });

  it('shows the medians with "± ∞" and a footnote, as fewer than 6 trials give no 95% interval', () => {
    const out = renderComparison(a, b, NAMES);
    expect(line(out, 'rest / baseline', 'orders/s')).toMatch(/│\s+1,000 ± ∞\s+│\s+1,200 ± ∞\s+│/);
    expect(out).toContain('± ∞: fewer than 6 trials give no 95% confidence interval for the median');
  });
});

describe('compare: too few trials', () => {
  const a = resultsDoc(trials(2, steady));
  const b = resultsDoc(trials(2, faster));

  it('judges "~" with 2 trials a side however large the change', () => {
    const rows = compareDocuments(a, b);
    expect(rows.map((r) => [r.verdict, r.tooFew])).toEqual([
      ['~', true],
      ['~', true],
      ['~', true],
    ]);
    expect(rows[0]?.delta).toBeCloseTo(((1205 - 1005) / 1005) * 100, 6);
  });

  it('prints "~" and one line naming the trial counts and --trials 5', () => {
    const out = renderComparison(a, b, NAMES);
    expect(line(out, 'rest / baseline', 'orders/s')).toMatch(/│\s+~\s+│ p=0\.333 n=2\+2\s+│/);
    expect(out).toContain('\nneed ≥ 3 trials per side for a verdict (had 2+2); run with --trials 5');
  });
});

describe('compare: different configs', () => {
  const a = resultsDoc(trials(3, steady));
  const b = resultsDoc(trials(3, steady), { duration: 1 });

  it('lists durationMs as differing and not neutral', () => {
    expect(configDifferences(a, b)).toEqual([{ key: 'durationMs', old: 3000, new: 1000, neutral: false }]);
  });

  it('throws ConfigsDifferError naming durationMs', () => {
    expect(() => renderComparison(a, b, NAMES)).toThrow(ConfigsDifferError);
    expect(() => renderComparison(a, b, NAMES)).toThrow('the two results were measured with different configs (durationMs); pass --force to compare them anyway');
  });

  it('renders with force, listing durationMs: 3000 → 1000 and warning that the configs differ', () => {
    const out = renderComparison(a, b, NAMES, { force: true });
    expect(out).toContain('\n  durationMs: 3000 → 1000\n');
    expect(out).toContain(
      '\nwarning: the configs differ (durationMs); compared anyway (--force), so a change may come from the config rather than the pattern',
    );
    expect(out).not.toContain('same machine, Node and config');
  });

  it('flattens the load model: equal → open names load.kind and the keys each side lacks', () => {
    const open = resultsDoc(trials(3, steady), { rate: 2000 });
    expect(configDifferences(a, open)).toEqual([
      { key: 'load.kind', old: 'equal', new: 'open', neutral: false },
      { key: 'load.fraction', old: 0.7, new: undefined, neutral: false },
      { key: 'load.capacityConcurrency', old: 16, new: undefined, neutral: false },
      { key: 'load.capacityMs', old: 1000, new: undefined, neutral: false },
      { key: 'load.capacityWarmupMs', old: 500, new: undefined, neutral: false },
      { key: 'load.capacityWarmupMaxMs', old: 2500, new: undefined, neutral: false },
      { key: 'load.rate', old: undefined, new: 2000, neutral: false },
    ]);
    const out = renderComparison(a, open, NAMES, { force: true });
    expect(out).toContain('\n  load.kind: equal → open\n');
    expect(out).toContain('\n  load.rate: — → 2000\n');
  });

  it('does not throw for a neutral difference (seed), and shows it as neutral', () => {
    const seeded = resultsDoc(trials(3, steady), { seed: 7 });
    expect(configDifferences(a, seeded)).toEqual([{ key: 'seed', old: 42, new: 7, neutral: true }]);
    const out = renderComparison(a, seeded, NAMES);
    expect(out).toContain('\n  seed: 42 → 7 (does not change what is measured)');
    expect(out).not.toContain('warning:');
  });
});

describe('compare: a refusal says what differs', () => {
  // --rate 300 against --rate 400 with another seed, on another Node.js.
  const a = resultsDoc(trials(3, steady), { rate: 300 });
  const b: ResultsDocument = { ...resultsDoc(trials(3, steady), { rate: 400, seed: 7 }), environment: { ...a.environment, node: 'v22.1.0' } };
  const refusal = (): ConfigsDifferError => {
    try {
      renderComparison(a, b, NAMES);
    } catch (err) {
      if (err instanceof ConfigsDifferError) return err;
      throw err;
    }
    throw new Error('compared without --force');
  };

  it('lists Node, then each config key old → new, the neutral ones marked, after the one line naming the blocking keys', () => {
    const err = refusal();
    expect(err.keys).toEqual(['load.rate']);
    expect(err.differences).toEqual(['differences, old → new:', '  Node: v20.20.2 → v22.1.0', '  load.rate: 300 → 400', '  seed: 42 → 7 (does not change what is measured)']);
    expect(err.message).toBe(
      [
        'the two results were measured with different configs (load.rate); pass --force to compare them anyway',
        'differences, old → new:',
        '  Node: v20.20.2 → v22.1.0',
        '  load.rate: 300 → 400',
        '  seed: 42 → 7 (does not change what is measured)',
      ].join('\n'),
    );
    expect(err.exitCode).toBe(2);
  });

  it('carries the very lines the comparison under --force prints', () => {
    const lines = differenceLines(a, b);
    expect(refusal().differences).toEqual(lines);
    expect(renderComparison(a, b, NAMES, { force: true })).toContain(`\n${lines.join('\n')}\n`);
  });

  it('says "same machine, Node and config" when nothing differs', () => {
    expect(differenceLines(a, a)).toEqual(['same machine, Node and config']);
  });
});

describe('compare: machine and Node.js', () => {
  it('prints each differing machine property and the Node.js version, old → new, without throwing', () => {
    const a = resultsDoc(trials(3, steady));
    const b: ResultsDocument = {
      ...resultsDoc(trials(3, steady)),
      environment: { ...a.environment, cpus: 8, cpuModel: 'other cpu', totalMemoryGiB: 32, node: 'v22.1.0' },
    };
    expect(environmentDifferences(a.environment, b.environment)).toEqual([
      { what: 'CPUs', old: '2 × test cpu', new: '8 × other cpu' },
      { what: 'memory', old: '24 GiB', new: '32 GiB' },
      { what: 'Node', old: 'v20.20.2', new: 'v22.1.0' },
    ]);
    const out = renderComparison(a, b, NAMES);
    expect(out).toContain('\ndifferences, old → new:\n  CPUs: 2 × test cpu → 8 × other cpu\n  memory: 24 GiB → 32 GiB\n  Node: v20.20.2 → v22.1.0');
  });
});

describe('compare: equal load', () => {
  it('prints the equal-load rate of each side when they differ, as orders/s follows it', () => {
    const equal = (rate: number): ResultsDocument['equalLoad'] => ({ rate, source: 'capacity', fraction: 0.7, basis: { pattern: 'rest', capacity: rate / 0.7 } });
    const a: ResultsDocument = { ...resultsDoc(trials(3, steady)), equalLoad: equal(1400) };
    const b: ResultsDocument = { ...resultsDoc(trials(3, steady)), equalLoad: equal(1610) };
    expect(renderComparison(a, b, NAMES)).toContain('\nequal load: 1,400 → 1,610 orders/s offered to every pattern (set by each run\'s capacity phase)');
  });
});

describe('compare: invariants and missing rows', () => {
  it('shows a broken invariant on the new side next to the old verdict', () => {
    const broken = { ...completedRun().invariants, ok: false, lost: 3 };
    const a = resultsDoc(trials(3, steady));
    const b = resultsDoc(trials(3, steady, { invariants: broken }));
    expect(compareDocuments(a, b)[0]?.invariants).toEqual({ old: 'OK', new: 'BROKEN: lost 9' });
    expect(line(renderComparison(a, b, NAMES), 'rest / baseline', 'orders/s')).toContain('OK → BROKEN: lost 9');
  });

  it('keeps a pattern × scenario that only one side ran, with "not run", no p and "~"', () => {
    const a = resultsDoc(trials(3, steady));
    const b = resultsDoc([...trials(3, steady), ...trials(3, faster, { pattern: 'grpc' })]);
    const grpc = compareDocuments(a, b).filter((r) => r.pattern === 'grpc');
    expect(grpc.map((r) => [r.old.length, r.new.length, r.p, r.delta, r.verdict, r.tooFew])).toEqual([
      [0, 3, null, null, '~', false],
      [0, 3, null, null, '~', false],
      [0, 3, null, null, '~', false],
    ]);
    expect(grpc[0]?.invariants).toEqual({ old: 'not run', new: 'OK' });
    expect(line(renderComparison(a, b, NAMES), 'grpc / baseline', 'orders/s')).toMatch(/│\s+—\s+│\s+1,200 ± ∞\s+│\s+~\s+│ n=0\+3\s+│ not run → OK/);
  });
});
