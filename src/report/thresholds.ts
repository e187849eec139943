import Table from 'cli-table3';
import { markdownTable } from 'markdown-table';
import type { ThresholdVerdict } from '../bench/results.js';
import { parseThreshold, thresholdUnit } from '../bench/thresholds.js';
import { fmtInt, fmtMs, fmtNum } from './format.js';
import { fitTable } from './terminal.js';

const HEAD = ['threshold', 'pattern / scenario', 'measured', 'result'] as const;

/** The measured figure with its unit, read from the expression (a verdict does not store its figure). */
function measured(expression: string, actual: number | null): string {
  if (actual === null) return 'not measured';
  let unit: string | null = null;
  try {
    unit = thresholdUnit(parseThreshold(expression).figure);
  } catch {
    // A hand-edited results file: show the bare number.
  }
  switch (unit) {
    case 'ms':
      return `${fmtMs(actual)} ms`;
    case '%':
      // Two decimals: success thresholds sit at 99.9% and above.
      return `${fmtNum(actual, 2)}%`;
    case 'orders/s':
      return `${fmtInt(actual)} orders/s`;
    case 'µs':
      return `${fmtInt(actual)} µs`;
    case '':
      return fmtInt(actual);
    default:
      return fmtNum(actual, 2);
  }
}

function rows(verdicts: readonly ThresholdVerdict[]): string[][] {
  return verdicts.flatMap((v) =>
    v.checks.length === 0
      ? [[v.expression, '—', 'not measured', 'FAIL']]
      : v.checks.map((c) => [v.expression, `${c.pattern} / ${c.scenario}`, measured(v.expression, c.actual), c.pass ? 'pass' : 'FAIL']),
  );
}

/** What the thresholds table's columns mean, in one line under it. */
export const THRESHOLD_LEGEND = 'measured: median over trials (success: over all orders; invariants: summed); not measured fails';

/**
 * One line per pattern × scenario a threshold checked, plain (no colour codes); '' with no
 * thresholds. With `width`, split into tables that fit it (the threshold repeated).
 */
export function renderThresholdTable(verdicts: readonly ThresholdVerdict[], width?: number): string {
  if (verdicts.length === 0) return '';
  if (width !== undefined) return fitTable(HEAD, ['left', 'left', 'right', 'left'], rows(verdicts), 1, width);
  const table = new Table({ head: [...HEAD], colAligns: ['left', 'left', 'right', 'left'], style: { head: [], border: [] } });
  for (const row of rows(verdicts)) table.push(row);
  return table.toString();
}

/** The `## Thresholds` section of the markdown report; '' with no thresholds. */
export function thresholdMarkdown(verdicts: readonly ThresholdVerdict[]): string {
  if (verdicts.length === 0) return '';
  const held = verdicts.filter((v) => v.pass).length;
  // Backticks keep `<` and `*` from being read as HTML or emphasis; pipes would split cells.
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const body = rows(verdicts).map(([expression = '', ...rest]) => [`\`${esc(expression)}\``, ...rest.map(esc)]);
  return [
    '## Thresholds',
    '',
    `${held} of ${verdicts.length} threshold(s) held.`,
    '',
    markdownTable([[...HEAD], ...body], { align: ['l', 'l', 'r', 'l'] }),
    '',
    '*measured*: the median over trials (success: over every trial’s orders; invariant counts: summed). *not measured*: no completed run of that pattern and scenario, which fails.',
    '',
  ].join('\n');
}
