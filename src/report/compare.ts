import Table from 'cli-table3';
import type { CompletedRun, Environment, ResultsDocument } from '../bench/results.js';
import { medianWithCi } from '../bench/stats.js';
import { mannWhitneyU, smallestP } from '../bench/utest.js';
import { ConfigsDifferError } from '../errors.js';
import { fmtInt, fmtMs } from './format.js';
import { invariantVerdict, summarize } from './summary.js';

/** Significance level, benchstat's default. */
const ALPHA = 0.05;
/** Fewer completed trials a side than this give no verdict, whatever p says. */
const MIN_TRIALS = 3;
/** What the footnote suggests: 4 a side is the least that can reach p < 0.05 (2/70), 5 (2/252) leaves room for a tie. */
const SUGGESTED_TRIALS = 5;

/** Config keys that choose what runs or where it is written, not how it is measured: shown, never blocking. */
export const NEUTRAL_CONFIG_KEYS: readonly string[] = ['outDir', 'trials', 'patterns', 'scenarios', 'seed'];

export type Figure = 'throughput' | 'p50' | 'p99';

interface FigureSpec {
  readonly id: Figure;
  readonly label: string;
  readonly higherIsBetter: boolean;
  readonly pick: (run: CompletedRun) => number;
  readonly fmt: (n: number | null | undefined) => string;
}

const FIGURES: readonly FigureSpec[] = [
  { id: 'throughput', label: 'orders/s', higherIsBetter: true, pick: (r) => r.throughput.achieved, fmt: fmtInt },
  { id: 'p50', label: 'p50 ms', higherIsBetter: false, pick: (r) => r.latencyMs.p50, fmt: fmtMs },
  { id: 'p99', label: 'p99 ms', higherIsBetter: false, pick: (r) => r.latencyMs.p99, fmt: fmtMs },
];

/** One figure of one pattern × scenario, old against new. */
export interface ComparisonRow {
  /** `pattern / scenario`. */
  readonly key: string;
  readonly pattern: string;
  readonly scenario: string;
  readonly figure: Figure;
  /** The figure of each completed trial, in trial order (orders/s or ms). */
  readonly old: readonly number[];
  readonly new: readonly number[];
  /** Median of new against median of old, signed % of old; null when a side has no trial or old's median is 0. */
  readonly delta: number | null;
  /** Two-sided Mann–Whitney U p-value; null when a side has no completed trial. */
  readonly p: number | null;
  /** `~`: no significant change (p ≥ 0.05, too few trials, or nothing to compare). */
  readonly verdict: 'better' | 'worse' | '~';
  /**
   * Both sides ran, but their trial counts cannot support a verdict: fewer than 3 a side,
   * or too few for p < 0.05 to be possible at all (smallestP ≥ 0.05, e.g. 3 vs 3).
   */
  readonly tooFew: boolean;
  /** invariantVerdict() of each side over its trials; `not run` when the side has no such runs. */
  readonly invariants: { readonly old: string; readonly new: string };
}

/** A flattened config value; arrays are joined with commas. */
export type ConfigValue = string | number | boolean | null;

/** One config key whose value differs; `undefined` where a side lacks the key (e.g. `load.rate` of an equal load). */
export interface ConfigDifference {
  /** Dotted path into the config: `durationMs`, `load.kind`. */
  readonly key: string;
  readonly old: ConfigValue | undefined;
  readonly new: ConfigValue | undefined;
  /** The key does not change what is measured (NEUTRAL_CONFIG_KEYS). */
  readonly neutral: boolean;
}

/** One property of the machine or Node.js that differs, as shown. */
export interface EnvironmentDifference {
  readonly what: string;
  readonly old: string;
  readonly new: string;
}

const median = (xs: readonly number[]): number | null => medianWithCi(xs)?.median ?? null;

/**
 * Every pattern × scenario present in either document, each figure (throughput achieved,
 * latency p50 and p99) judged the way benchstat judges: the trials of each side compared
 * with a Mann–Whitney U test, a change only where p < 0.05 with at least 3 trials a side.
 */
export function compareDocuments(a: ResultsDocument, b: ResultsDocument): ComparisonRow[] {
  const keyOf = (r: { pattern: string; scenario: string }) => `${r.pattern} / ${r.scenario}`;
  const groups = new Map<string, { pattern: string; scenario: string }>();
  for (const run of [...a.runs, ...b.runs]) if (!groups.has(keyOf(run))) groups.set(keyOf(run), { pattern: run.pattern, scenario: run.scenario });
  const verdictsA = invariantsByKey(a);
  const verdictsB = invariantsByKey(b);
  const rows: ComparisonRow[] = [];
  for (const [key, { pattern, scenario }] of groups) {
    const trials = (d: ResultsDocument) =>
      d.runs.filter((r): r is CompletedRun => r.state === 'completed' && r.pattern === pattern && r.scenario === scenario).sort((x, y) => x.trial - y.trial);
    const runsA = trials(a);
    const runsB = trials(b);
    const invariants = { old: verdictsA.get(key) ?? 'not run', new: verdictsB.get(key) ?? 'not run' };
    for (const figure of FIGURES) {
      const old = runsA.map(figure.pick);
      const neu = runsB.map(figure.pick);
      rows.push({ key, pattern, scenario, figure: figure.id, old, new: neu, invariants, ...judge(old, neu, figure.higherIsBetter) });
    }
  }
  return rows;
}

function judge(old: readonly number[], neu: readonly number[], higherIsBetter: boolean): Pick<ComparisonRow, 'delta' | 'p' | 'verdict' | 'tooFew'> {
  if (old.length === 0 || neu.length === 0) return { delta: null, p: null, verdict: '~', tooFew: false };
  const { p } = mannWhitneyU(old, neu);
  const mOld = median(old) as number;
  const mNew = median(neu) as number;
  const delta = mOld === 0 ? null : ((mNew - mOld) / mOld) * 100;
  const tooFew = Math.min(old.length, neu.length) < MIN_TRIALS || smallestP(old.length, neu.length) >= ALPHA;
  if (tooFew || p >= ALPHA || delta === null || delta === 0) return { delta, p, verdict: '~', tooFew };
  return { delta, p, verdict: delta > 0 === higherIsBetter ? 'better' : 'worse', tooFew };
}

/** Each pattern × scenario's invariant verdict over its trials. */
function invariantsByKey(doc: ResultsDocument): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of summarize(doc)) {
    out.set(`${row.pattern} / ${row.scenario}`, row.completedTrials === 0 ? 'no completed trial' : invariantVerdict(row.invariants));
  }
  return out;
}

/** The config keys whose values differ, flattened (`load.kind`), in the old document's key order. */
export function configDifferences(a: ResultsDocument, b: ResultsDocument): ConfigDifference[] {
  const old = flatten(a.config);
  const neu = flatten(b.config);
  const keys = [...new Set([...old.keys(), ...neu.keys()])];
  return keys
    .filter((key) => old.get(key) !== neu.get(key))
    .map((key) => ({ key, old: old.get(key), new: neu.get(key), neutral: NEUTRAL_CONFIG_KEYS.includes(key.split('.')[0] as string) }));
}

function flatten(value: unknown, prefix = '', out = new Map<string, ConfigValue>()): Map<string, ConfigValue> {
  if (Array.isArray(value)) out.set(prefix, value.join(','));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else out.set(prefix, value as ConfigValue);
  return out;
}

/** The machine (CPUs, memory, OS) and Node.js version, where they differ. */
export function environmentDifferences(a: Environment, b: Environment): EnvironmentDifference[] {
  const shown = (e: Environment): [string, string][] => [
    ['CPUs', `${e.cpus} × ${e.cpuModel}`],
    ['memory', `${e.totalMemoryGiB} GiB`],
    ['OS', `${e.platform} ${e.osRelease} ${e.arch}`],
    ['Node', e.node],
  ];
  const old = shown(a);
  const neu = shown(b);
  return old.flatMap(([what, value], i) => {
    const other = neu[i]?.[1] ?? '';
    return value === other ? [] : [{ what, old: value, new: other }];
  });
}

/**
 * Two results documents compared like benchstat: each pattern × scenario's orders/s, p50
 * and p99 (median ± the median's 95% interval over trials), the change where the trials
 * show one (Mann–Whitney U, p < 0.05, ≥ 3 trials a side) and `~` where they do not, the
 * invariants of both, and every difference of machine, Node.js and config.
 * Throws ConfigsDifferError when a config key that changes what is measured differs
 * (anything but NEUTRAL_CONFIG_KEYS), unless `options.force`; the error carries the same
 * difference lines the comparison would end with.
 */
export function renderComparison(a: ResultsDocument, b: ResultsDocument, names: readonly [string, string], options: { force?: boolean } = {}): string {
  const configs = configDifferences(a, b);
  const blocking = configs.filter((d) => !d.neutral).map((d) => d.key);
  if (blocking.length > 0 && options.force !== true) throw new ConfigsDifferError(blocking, differenceLines(a, b, configs));

  const rows = compareDocuments(a, b);
  const table = new Table({
    head: ['pattern / scenario', 'figure', 'old', 'new', 'Δ', 'p', 'invariants old → new'],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
    style: { head: [], border: [] },
  });
  let noInterval = false;
  const cell = (values: readonly number[], fmt: FigureSpec['fmt']): string => {
    const est = medianWithCi(values);
    if (!est) return '—';
    if (est.confidence < 0.95) {
      noInterval = true;
      return `${fmt(est.median)} ± ∞`;
    }
    const half = Math.max(est.high - est.median, est.median - est.low);
    if (half === 0) return `${fmt(est.median)} ± 0%`;
    return `${fmt(est.median)} ± ${est.median === 0 ? '∞' : `${((half / Math.abs(est.median)) * 100).toFixed(0)}%`}`;
  };
  let lastKey = '';
  for (const row of rows) {
    const spec = FIGURES.find((f) => f.id === row.figure) as FigureSpec;
    const n = `n=${row.old.length}+${row.new.length}`;
    table.push([
      row.key,
      spec.label,
      cell(row.old, spec.fmt),
      cell(row.new, spec.fmt),
      row.verdict === '~' || row.delta === null ? '~' : `${row.delta >= 0 ? '+' : ''}${row.delta.toFixed(1)}%`,
      row.p === null ? n : `p=${row.p.toFixed(3)} ${n}`,
      // Once per pattern × scenario: a broken invariant on either side shows here.
      row.key === lastKey ? '' : `${row.invariants.old} → ${row.invariants.new}`,
    ]);
    lastKey = row.key;
  }

  const lines = [`old: ${names[0]} (${a.startedAt})`, `new: ${names[1]} (${b.startedAt})`, table.toString()];
  const trialNote = tooFewNote(rows);
  if (trialNote) lines.push(trialNote);
  if (noInterval) lines.push('± ∞: fewer than 6 trials give no 95% confidence interval for the median');

  lines.push(...differenceLines(a, b, configs));
  if (a.equalLoad && b.equalLoad && a.equalLoad.rate !== b.equalLoad.rate) {
    // Under equal load orders/s follows the rate each run's capacity phase chose.
    lines.push(`equal load: ${fmtInt(a.equalLoad.rate)} → ${fmtInt(b.equalLoad.rate)} orders/s offered to every pattern (set by each run's capacity phase)`);
  }
  if (blocking.length > 0) {
    lines.push(`warning: the configs differ (${blocking.join(', ')}); compared anyway (--force), so a change may come from the config rather than the pattern`);
  }
  return lines.join('\n');
}

/**
 * What differs between the two runs, machine and Node.js first, then each config key, old →
 * new; `same machine, Node and config` when nothing does. The comparison ends with these
 * lines, and a refusal (ConfigsDifferError) carries them.
 */
export function differenceLines(a: ResultsDocument, b: ResultsDocument, configs: readonly ConfigDifference[] = configDifferences(a, b)): string[] {
  const env = environmentDifferences(a.environment, b.environment);
  if (env.length === 0 && configs.length === 0) return ['same machine, Node and config'];
  return [
    'differences, old → new:',
    ...env.map((d) => `  ${d.what}: ${d.old} → ${d.new}`),
    ...configs.map((d) => `  ${d.key}: ${shownValue(d.old)} → ${shownValue(d.new)}${d.neutral ? ' (does not change what is measured)' : ''}`),
  ];
}

/** One line, like benchstat's, when trial counts kept some rows from a verdict; null when none did. */
function tooFewNote(rows: readonly ComparisonRow[]): string | null {
  const pairs = (keep: (n1: number, n2: number) => boolean) => [
    ...new Set(rows.filter((r) => r.tooFew && keep(r.old.length, r.new.length)).map((r) => `${r.old.length}+${r.new.length}`)),
  ];
  const under = pairs((n1, n2) => Math.min(n1, n2) < MIN_TRIALS);
  const unreachable = pairs((n1, n2) => Math.min(n1, n2) >= MIN_TRIALS);
  if (under.length === 0 && unreachable.length === 0) return null;
  const clauses: string[] = [];
  if (under.length > 0) clauses.push(`need ≥ ${MIN_TRIALS} trials per side for a verdict (had ${under.join(', ')})`);
  if (unreachable.length > 0) {
    const best = Math.min(
      ...unreachable.map((pair) => {
        const [n1, n2] = pair.split('+').map(Number);
        return smallestP(n1 as number, n2 as number);
      }),
    );
    clauses.push(`${unreachable.join(', ')} trials cannot reach p<${ALPHA} (the smallest possible p is ${best.toFixed(3)})`);
  }
  return `${clauses.join('; ')}; run with --trials ${SUGGESTED_TRIALS}`;
}

function shownValue(v: ConfigValue | undefined): string {
  return v === undefined ? '—' : String(v);
}
