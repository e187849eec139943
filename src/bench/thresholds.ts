import { InvalidOptionError, UnknownNameError } from '../errors.js';
import { summarize, type SummaryRow } from '../report/summary.js';
import type { InvariantReport } from '../workflow/invariants.js';
import type { ResultsDocument, ThresholdVerdict } from './results.js';

/** One of the invariant checker's counts (every field of InvariantReport but `ok`). */
export type InvariantCount = Exclude<keyof InvariantReport, 'ok'>;
export type LatencyFigure = 'p50' | 'p90' | 'p99' | 'p999' | 'max';
export type ThresholdFigure = LatencyFigure | 'success' | 'achieved' | 'cpu' | InvariantCount;
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** `--threshold rest@outage.p99<50ms`, parsed. */
export interface Threshold {
  /** As the user wrote it. */
  readonly expression: string;
  /** A pattern id, or `*` for every pattern of the run. */
  readonly pattern: string;
  /** A scenario id; null for every scenario of the run. */
  readonly scenario: string | null;
  readonly figure: ThresholdFigure;
  readonly op: ThresholdOp;
  /** In the figure's display unit (thresholdUnit): ms, percent 0..100, orders/s, a count, µs. */
  readonly value: number;
}

/** What a figure's value is written in: unit suffixes and the factor each converts by. */
interface Quantity {
  /** The display unit, what `Threshold.value` and a verdict's `actual` are in. */
  readonly unit: string;
  /** Suffix → factor to the display unit; '' is a bare number. */
  readonly suffixes: Readonly<Record<string, number>>;
  readonly min: number;
  readonly max: number;
  /** For the error message: what a value looks like, and an example expression. */
  readonly what: string;
  readonly example: string;
}

const LATENCY: Quantity = { unit: 'ms', suffixes: { '': 1, ms: 1, s: 1000 }, min: 0, max: Infinity, what: 'a latency in ms or s', example: 'rest.p99<20ms' };
const ACHIEVED: Quantity = { unit: 'orders/s', suffixes: { '': 1, '/s': 1 }, min: 0, max: Infinity, what: 'a rate in orders/s', example: '*.achieved>=1000/s' };
// µ is U+00B5 (micro sign) or U+03BC (Greek mu) depending on the keyboard: accept both.
const CPU: Quantity = { unit: 'µs', suffixes: { '': 1, us: 1, '\u00b5s': 1, '\u03bcs': 1 }, min: 0, max: Infinity, what: 'CPU µs per order (us or µs)', example: 'rest.cpu<800us' };
const COUNT: Quantity = { unit: '', suffixes: { '': 1 }, min: 0, max: Infinity, what: 'a count with no unit', example: '*.lost==0' };
// A bare number is a fraction (0.999), a number with % a percent (99.9%); both are stored as a percent.
const SUCCESS_PERCENT: Quantity = { unit: '%', suffixes: { '%': 1 }, min: 0, max: 100, what: 'a percent from 0% to 100% or a fraction from 0 to 1', example: '*.success>=99.9%' };
const SUCCESS_FRACTION: Quantity = { ...SUCCESS_PERCENT, suffixes: { '': 100 }, max: 1 };

// A Record over InvariantCount, so a count added to InvariantReport fails to compile until it is listed here.
const INVARIANTS: Readonly<Record<InvariantCount, true>> = {
  stuck: true,
  lost: true,
  doubleCharged: true,
  leakedCharges: true,
  missingEffects: true,
  oversold: true,
  stockNotConserved: true,
  leakedReservations: true,
  unexpectedEffects: true,
  duplicatesAbsorbed: true,
};

const FIGURES: Readonly<Record<ThresholdFigure, Quantity>> = {
  p50: LATENCY,
  p90: LATENCY,
  p99: LATENCY,
  p999: LATENCY,
  max: LATENCY,
  success: SUCCESS_PERCENT,
  achieved: ACHIEVED,
  cpu: CPU,
  ...(Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, COUNT])) as Record<InvariantCount, Quantity>),
};

const ALIASES: Readonly<Record<string, ThresholdFigure>> = { 'p99.9': 'p999' };

const OPS: readonly ThresholdOp[] = ['<', '<=', '>', '>=', '==', '!='];

const OPTION = '--threshold';
const GRAMMAR = `<pattern|*>[@scenario].<figure><op><value>[unit] with op one of ${OPS.join(' ')}, e.g. rest.p99<20ms or rest@outage.success>=99%`;
const FIGURE_LIST = `a figure of p50, p90, p99, p999 (or p99.9), max, success, achieved, cpu, ${Object.keys(INVARIANTS).join(', ')}, e.g. rest.p99<20ms`;

// No <, >, = or ! on either side: `rest.p99=<20` is malformed, not figure `p99=`.
const SHAPE = /^([^<>=!]*)(<=|>=|==|!=|<|>)([^<>=!]*)$/;
const TARGET = /^(\*|[A-Za-z0-9_-]+)(?:@(\*|[A-Za-z0-9_-]+))?\.(.+)$/;
const NUMBER = /^(\d+(?:\.\d+)?|\.\d+)\s*(\S*)$/;

function isFigure(name: string): name is ThresholdFigure {
  return Object.hasOwn(FIGURES, name);
}

/** The display unit of a figure: 'ms', '%', 'orders/s', 'µs', or '' for counts. */
export function thresholdUnit(figure: ThresholdFigure): string {
  return FIGURES[figure].unit;
}

// n × factor without binary noise: 0.999 × 100 is 99.9, 1.1 s is 1100 ms.
const scale = (n: number, factor: number): number => Number((n * factor).toPrecision(12));

function parseValue(text: string, expression: string, figure: ThresholdFigure): number {
  const fail = (q: Quantity, detail = '') => new InvalidOptionError(OPTION, expression, `${q.what}${detail}, e.g. ${q.example}`);
  const base = FIGURES[figure];
  if (/\d,\d/.test(text)) throw fail(base, ' without thousands separators');
  const m = NUMBER.exec(text);
  if (!m) throw fail(base);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  const quantity = figure === 'success' && suffix === '' ? SUCCESS_FRACTION : base;
  const factor = quantity.suffixes[suffix];
  if (factor === undefined || n < quantity.min || n > quantity.max) throw fail(base);
  return scale(n, factor);
}

/**
 * Parse one `--threshold` expression: `<pattern|*>[@scenario].<figure><op><value>[unit]`.
 * Names are not checked here (see parseThresholds). Throws InvalidOptionError naming the
 * expression when it is malformed, a unit does not fit its figure included.
 */
export function parseThreshold(text: string): Threshold {
  const shape = SHAPE.exec(text.trim());
  const target = shape ? TARGET.exec((shape[1] ?? '').trim()) : null;
  if (!shape || !target) throw new InvalidOptionError(OPTION, text, GRAMMAR);
  const name = target[3] ?? '';
  const figure = ALIASES[name] ?? name;
  if (!isFigure(figure)) throw new InvalidOptionError(OPTION, text, FIGURE_LIST);
  const scenario = target[2];
  return {
    expression: text,
    pattern: target[1] ?? '*',
    scenario: scenario === undefined || scenario === '*' ? null : scenario,
    figure,
    op: shape[2] as ThresholdOp,
    value: parseValue((shape[3] ?? '').trim(), text, figure),
  };
}

/**
 * Parse every `--threshold` of a run and check its names up front: a pattern (and, when
 * `knownScenarios` is given, a scenario) that is not one of the run's is refused with
 * UnknownNameError, so a typo fails before the run rather than as a FAIL after it. An
 * expression given twice (spaces aside) is refused with InvalidOptionError, as a list
 * option's repeated item is. Two spellings of one check (`rest.success>=58%` and
 * `rest.success>=0.58`) are not the same expression and both stand.
 */
export function parseThresholds(texts: readonly string[], knownPatterns: readonly string[], knownScenarios?: readonly string[]): Threshold[] {
  const seen = new Set<string>();
  return texts.map((text) => {
    const t = parseThreshold(text);
    if (t.pattern !== '*' && !knownPatterns.includes(t.pattern)) throw new UnknownNameError(OPTION, t.pattern, [...knownPatterns, '*']);
    if (knownScenarios && t.scenario !== null && !knownScenarios.includes(t.scenario)) {
      throw new UnknownNameError(OPTION, t.scenario, [...knownScenarios, '*']);
    }
    const key = text.replace(/\s+/g, '');
    if (seen.has(key)) throw new InvalidOptionError(OPTION, text, 'each expression once (it is given twice)');
    seen.add(key);
    return t;
  });
}

/** The row's figure in its display unit; null when the row has no completed trial or lacks the figure. */
function measure(row: SummaryRow, figure: ThresholdFigure): number | null {
  if (row.completedTrials === 0) return null;
  switch (figure) {
    case 'p50':
    case 'p90':
    case 'p99':
    case 'p999':
    case 'max':
      return row.latencyMs?.[figure] ?? null;
    case 'success': {
      const o = row.outcomes;
      // × 100 before ÷: 29 of 50 is exactly the 58 that `58%` parses to ((29 / 50) × 100 is 57.99999999999999).
      return o.placed > 0 ? ((o.confirmed + o.cancelled) * 100) / o.placed : null;
    }
    case 'achieved':
      return row.achieved?.median ?? null;
    case 'cpu':
      return row.systemCpuMicrosPerOrder ?? row.cpuMicrosPerOrder;
    default:
      return row.invariants?.[figure] ?? null;
  }
}

function holds(actual: number, op: ThresholdOp, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

/**
 * Check each threshold against every pattern × scenario it names (`*`: every pattern the
 * run selected; no qualifier: every scenario of the run). The actual figure is the row's
 * median over trials, except success (over all the trials' orders) and the invariant
 * counts (summed over trials), as summarize() gives them. A pattern or scenario that was
 * not measured is a failing check with actual null, never a silent pass.
 */
export function evaluateThresholds(thresholds: readonly Threshold[], doc: ResultsDocument): ThresholdVerdict[] {
  const rows = summarize(doc);
  const patterns = union(doc.config.patterns, rows.map((r) => r.pattern));
  const scenarios = union(doc.config.scenarios, rows.map((r) => r.scenario));
  return thresholds.map((t) => {
    const checks = (t.pattern === '*' ? patterns : [t.pattern]).flatMap((pattern) =>
      (t.scenario === null ? scenarios : [t.scenario]).map((scenario) => {
        const row = rows.find((r) => r.pattern === pattern && r.scenario === scenario);
        const actual = row ? measure(row, t.figure) : null;
        return { pattern, scenario, actual, pass: actual !== null && holds(actual, t.op, t.value) };
      }),
    );
    // No checks at all (a run with no pattern or scenario) is a failure too.
    return { expression: t.expression, checks, pass: checks.length > 0 && checks.every((c) => c.pass) };
  });
}

/** True when any threshold did not hold: the CLI's exit status. */
export function thresholdsFailed(verdicts: readonly ThresholdVerdict[]): boolean {
  return verdicts.some((v) => !v.pass);
}
