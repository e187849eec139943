import { describe, expect, it } from 'vitest';
import type { ErroredRun, ResultsDocument } from '../src/bench/results.js';
import { evaluateThresholds, parseThreshold, parseThresholds, thresholdsFailed } from '../src/bench/thresholds.js';
import { InvalidOptionError, UnknownNameError } from '../src/errors.js';
import { renderThresholdTable, thresholdMarkdown } from '../src/report/thresholds.js';
import { completedRun, latency, resultsDoc } from './support/results.js';

const GRAMMAR = '<pattern|*>[@scenario].<figure><op><value>[unit] with op one of < <= > >= == !=, e.g. rest.p99<20ms or rest@outage.success>=99%';
const FIGURES =
  'a figure of p50, p90, p99, p999 (or p99.9), max, success, achieved, cpu, stuck, lost, doubleCharged, leakedCharges, missingEffects, oversold, ' +
  'stockNotConserved, leakedReservations, unexpectedEffects, duplicatesAbsorbed, e.g. rest.p99<20ms';
const LATENCY = 'a latency in ms or s, e.g. rest.p99<20ms';
const SUCCESS = 'a percent from 0% to 100% or a fraction from 0 to 1, e.g. *.success>=99.9%';
const message = (value: string, expected: string) => `invalid value for --threshold: ${JSON.stringify(value)} (expected ${expected})`;

/** Three trials of rest whose p99s (50, 12, 13) have a median (13) unlike their mean, first or max. */
function doc(): ResultsDocument {
  return resultsDoc([
    completedRun({ trial: 1, latencyMs: latency(5, 50, 90), throughput: { target: null, offered: null, achieved: 800 } }),
    completedRun({ trial: 2, latencyMs: latency(4, 12, 60), throughput: { target: null, offered: null, achieved: 1200 } }),
    completedRun({ trial: 3, latencyMs: latency(6, 13, 70), throughput: { target: null, offered: null, achieved: 1000 } }),
    completedRun({ pattern: 'grpc', latencyMs: latency(3, 30) }),
  ]);
}

describe('parseThreshold', () => {
  it('reads every operator', () => {
    for (const op of ['<', '<=', '>', '>=', '==', '!='] as const) {
      expect(parseThreshold(`rest.p99${op}20ms`)).toEqual({ expression: `rest.p99${op}20ms`, pattern: 'rest', scenario: null, figure: 'p99', op, value: 20 });
    }
  });

  it('reads every figure and converts its unit to the display unit', () => {
    const cases: [string, string, number][] = [
      ['rest.p50<5', 'p50', 5],
      ['rest.p90<=7ms', 'p90', 7],
      ['rest.p99<2s', 'p99', 2000],
      ['rest.p999<1.1s', 'p999', 1100],
      ['rest.p99.9<30ms', 'p999', 30],
      ['rest.max<.5s', 'max', 500],
      ['*.success>=99.9%', 'success', 99.9],
      ['*.success>=0.999', 'success', 99.9],
      ['*.success>=100%', 'success', 100],
      ['*.achieved>=1000/s', 'achieved', 1000],
      ['*.achieved>=1500', 'achieved', 1500],
      ['*.cpu<800us', 'cpu', 800],
      ['*.cpu<800\u00b5s', 'cpu', 800],
      ['*.cpu<800\u03bcs', 'cpu', 800],
      ['*.cpu<800', 'cpu', 800],
    ];
    for (const name of ['stuck', 'lost', 'doubleCharged', 'leakedCharges', 'missingEffects', 'oversold', 'stockNotConserved', 'leakedReservations', 'unexpectedEffects', 'duplicatesAbsorbed']) {
      cases.push([`*.${name}==0`, name, 0]);
    }
    for (const [text, figure, value] of cases) expect(parseThreshold(text), text).toMatchObject({ figure, value });
  });

  it('reads a scenario qualifier, * for patterns and scenarios, and spaces around the operator', () => {
    expect(parseThreshold('rest@outage.p99<50ms')).toMatchObject({ pattern: 'rest', scenario: 'outage' });
    expect(parseThreshold('*@*.p99<50ms')).toMatchObject({ pattern: '*', scenario: null });
    expect(parseThreshold('saga-orchestration.p99 < 50 ms')).toMatchObject({ pattern: 'saga-orchestration', figure: 'p99', op: '<', value: 50 });
  });

  it('refuses malformed expressions with one line naming the option and the value', () => {
    const cases: [string, string][] = [
      ['rest.p99=20ms', GRAMMAR],
      ['rest.p99=<20ms', GRAMMAR],
      ['rest.p99', GRAMMAR],
      ['p99<20ms', GRAMMAR],
      ['rest@.p99<20ms', GRAMMAR],
      ['re st.p99<20ms', GRAMMAR],
      ['rest.p95<20ms', FIGURES],
      ['rest.P99<20ms', FIGURES],
      ['rest.p99<20us', LATENCY],
      ['rest.p99<fast', LATENCY],
      ['rest.p99<', LATENCY],
      ['rest.p99<-1ms', LATENCY],
      ['rest.p99<1,000ms', 'a latency in ms or s without thousands separators, e.g. rest.p99<20ms'],
      ['*.success<20ms', SUCCESS],
      ['*.success>=99', SUCCESS],
      ['*.success>=101%', SUCCESS],
      ['*.achieved>=1,000/s', 'a rate in orders/s without thousands separators, e.g. *.achieved>=1000/s'],
      ['*.achieved>=1000/min', 'a rate in orders/s, e.g. *.achieved>=1000/s'],
      ['*.lost==0ms', 'a count with no unit, e.g. *.lost==0'],
      ['rest.cpu<1ms', 'CPU µs per order (us or µs), e.g. rest.cpu<800us'],
    ];
    for (const [text, expected] of cases) {
      const err = (() => {
        try {
          parseThreshold(text);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, text).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).message, text).toBe(message(text, expected));
      expect((err as InvalidOptionError).exitCode).toBe(2);
    }
  });
});

describe('parseThresholds', () => {
  it('refuses a pattern that is not one of the run', () => {
    expect(() => parseThresholds(['rest.p99<20ms', 'resst.p99<20ms'], ['rest', 'grpc'])).toThrow(
      new UnknownNameError('--threshold', 'resst', ['rest', 'grpc', '*']),
    );
    expect(() => parseThresholds(['resst.p99<20ms'], ['rest'])).toThrow('unknown value for --threshold: "resst" (known: rest, *)');
  });

  it('refuses a scenario that is not one of the run when the scenarios are given', () => {
    expect(() => parseThresholds(['rest@outgae.p99<20ms'], ['rest'], ['baseline', 'outage'])).toThrow(
      'unknown value for --threshold: "outgae" (known: baseline, outage, *)',
    );
    expect(parseThresholds(['rest@outage.p99<20ms', '*.lost==0'], ['rest'], ['baseline', 'outage']).map((t) => t.pattern)).toEqual(['rest', '*']);
  });
});

describe('evaluateThresholds', () => {
  it('checks the median over trials: one passing, one failing', () => {
    const [held, broke] = evaluateThresholds(parseThresholds(['rest.p99<15ms', 'rest.achieved>=1100/s'], ['rest', 'grpc']), doc());
    expect(held).toEqual({ expression: 'rest.p99<15ms', checks: [{ pattern: 'rest', scenario: 'baseline', actual: 13, pass: true }], pass: true });
    expect(broke).toEqual({ expression: 'rest.achieved>=1100/s', checks: [{ pattern: 'rest', scenario: 'baseline', actual: 1000, pass: false }], pass: false });
  });

  it('expands * to every pattern of the run', () => {
    const [v] = evaluateThresholds([parseThreshold('*.p99<15ms')], doc());
    expect(v?.checks).toEqual([
      { pattern: 'rest', scenario: 'baseline', actual: 13, pass: true },
      { pattern: 'grpc', scenario: 'baseline', actual: 30, pass: false },
    ]);
    expect(v?.pass).toBe(false);
  });

  it('measures success as a percent of the orders placed, invariants summed, and the system CPU first', () => {
    const d = resultsDoc([
      completedRun({ trial: 1, outcomes: { placed: 600, confirmed: 500, cancelled: 90, failed: 10, timedOut: 0 } }),
      completedRun({
        trial: 2,
        outcomes: { placed: 400, confirmed: 300, cancelled: 100, failed: 0, timedOut: 0 },
        invariants: { ...completedRun().invariants, ok: false, lost: 2 },
      }),
      completedRun({ pattern: 'grpc', cost: { ...completedRun().cost, system: { sharesGeneratorThread: true, cpuMicrosPerOrder: null, busiestThread: null } } }),
    ]);
    const verdicts = evaluateThresholds(parseThresholds(['rest.success>=99.5%', 'rest.success>=0.99', 'rest.lost==0', '*.cpu<=800us'], ['rest', 'grpc']), d);
    expect(verdicts.map((v) => v.checks.map((c) => [c.actual, c.pass]))).toEqual([
      [[99, false]],
      [[99, true]],
      [[2, false]],
      [
        [700, true],
        [900, false],
      ],
    ]);
  });

  it('holds a success threshold met exactly', () => {
    // (29 / 50) × 100 is 57.99999999999999: the share must be taken without that rounding.
    const d = resultsDoc([completedRun({ outcomes: { placed: 50, confirmed: 20, cancelled: 9, failed: 21, timedOut: 0 } })]);
    const verdicts = evaluateThresholds(parseThresholds(['rest.success>=58%', 'rest.success>=0.58', 'rest.success==58%'], ['rest']), d);
    expect(verdicts.map((v) => v.checks[0])).toEqual(Array(3).fill({ pattern: 'rest', scenario: 'baseline', actual: 58, pass: true }));
  });

  it('fails a pattern absent from the run, or without a completed trial, with actual null', () => {
    const errored: ErroredRun = { pattern: 'queue', scenario: 'baseline', trial: 1, state: 'errored', error: { code: 'PB_ERR', message: 'boom' } };
    const base = doc();
    const d: ResultsDocument = { ...base, config: { ...base.config, patterns: [...base.config.patterns, 'queue'] }, runs: [...base.runs, errored] };
    const [absent, failed, notEqual] = evaluateThresholds(parseThresholds(['direct.p99<1000ms', 'queue.lost==0', 'direct.lost!=1'], ['rest', 'direct', 'queue']), d);
    expect(absent).toEqual({ expression: 'direct.p99<1000ms', checks: [{ pattern: 'direct', scenario: 'baseline', actual: null, pass: false }], pass: false });
    expect(failed?.checks).toEqual([{ pattern: 'queue', scenario: 'baseline', actual: null, pass: false }]);
    expect(notEqual?.pass).toBe(false);
    expect(thresholdsFailed([absent, failed].filter((v) => v !== undefined))).toBe(true);
  });

  it('applies to every scenario unless a qualifier restricts it', () => {
    const d = resultsDoc([completedRun({ latencyMs: latency(5, 13) }), completedRun({ scenario: 'outage', latencyMs: latency(9, 80) })]);
    const [all, outage, missing] = evaluateThresholds(parseThresholds(['rest.p99<50ms', 'rest@outage.p99<50ms', 'rest@spike.p99<50ms'], ['rest']), d);
    expect(all?.checks).toEqual([
      { pattern: 'rest', scenario: 'baseline', actual: 13, pass: true },
      { pattern: 'rest', scenario: 'outage', actual: 80, pass: false },
    ]);
    expect(outage?.checks).toEqual([{ pattern: 'rest', scenario: 'outage', actual: 80, pass: false }]);
    expect(missing?.checks).toEqual([{ pattern: 'rest', scenario: 'spike', actual: null, pass: false }]);
  });

  it('reports failure only when a threshold did not hold', () => {
    const [pass, fail] = evaluateThresholds(parseThresholds(['rest.p99<15ms', 'grpc.p99<15ms'], ['rest', 'grpc']), doc());
    expect(thresholdsFailed([pass].filter((v) => v !== undefined))).toBe(false);
    expect(thresholdsFailed([pass, fail].filter((v) => v !== undefined))).toBe(true);
    expect(thresholdsFailed([])).toBe(false);
  });
});

describe('threshold reports', () => {
  const verdicts = () => evaluateThresholds(parseThresholds(['*.p99<15ms', '*.success>=99.9%', 'direct.cpu<500us'], ['rest', 'grpc', 'direct']), doc());

  it('renders a plain table with a pass or FAIL row per check', () => {
    const text = renderThresholdTable(verdicts());
    expect(text).not.toContain('\u001b[');
    const lines = text.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│').map((c) => c.trim()).slice(1, -1));
    expect(lines).toEqual([
      ['threshold', 'pattern / scenario', 'measured', 'result'],
      ['*.p99<15ms', 'rest / baseline', '13.0 ms', 'pass'],
      ['*.p99<15ms', 'grpc / baseline', '30.0 ms', 'FAIL'],
      ['*.success>=99.9%', 'rest / baseline', '100.00%', 'pass'],
      ['*.success>=99.9%', 'grpc / baseline', '100.00%', 'pass'],
      ['direct.cpu<500us', 'direct / baseline', 'not measured', 'FAIL'],
    ]);
    expect(renderThresholdTable([])).toBe('');
  });

  it('renders a markdown section', () => {
    const md = thresholdMarkdown(verdicts());
    expect(md.startsWith('## Thresholds\n\n1 of 3 threshold(s) held.\n\n| threshold')).toBe(true);
    expect(md).toMatch(/\| `\*\.p99<15ms` +\| grpc \/ baseline +\| +30\.0 ms \| FAIL +\|/);
    expect(md).toMatch(/\| `direct\.cpu<500us` +\| direct \/ baseline +\| not measured \| FAIL +\|/);
    expect(thresholdMarkdown([])).toBe('');
  });
});
