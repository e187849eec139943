/** The terminal output fits 100 columns: condensed tables with a legend line each, notes wrapped; --wide prints the full tables. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/cli.js';
import { colorEnabled } from '../src/cli/progress.js';
import type { CompletedRun, ResultsDocument, ThresholdVerdict } from '../src/bench/results.js';
import { FAILURE_COLUMNS, TERMINAL_FAILURE_COLUMNS } from '../src/report/columns.js';
import { summarize } from '../src/report/summary.js';
import { renderTables, TABLE_LEGENDS } from '../src/report/table.js';
import { CAPACITY_LEGEND } from '../src/report/load.js';
import { CURVE_LEGEND, SLO_LEGEND } from '../src/report/sweep.js';
import { THRESHOLD_LEGEND } from '../src/report/thresholds.js';
import { wrap } from '../src/report/terminal.js';
import { capacity, capacityRun, curve, equalLoad, runAt, step, sweepDoc } from './support/figures.js';
import { completedRun, failure, latency, resultsDoc } from './support/results.js';

const PATTERNS = ['direct', 'rest', 'grpc', 'queue', 'event-sourcing', 'saga-choreography', 'saga-orchestration'];

/** Every pattern in baseline and slow-downstream, the fault's figures with long recovery texts and error kinds. */
function bigDoc(): ResultsDocument {
  const runs: CompletedRun[] = PATTERNS.flatMap((pattern, i) => [
    runAt(412, {
      pattern,
      acceptLatencyMs: pattern === 'queue' ? latency(0.8, 2.5) : null,
      schedulerLatenessMs: latency(0.3, i === 0 ? 1.2 : 0.1),
      backlog: pattern === 'queue' ? { peakDepth: 1234, drainMs: 250 } : null,
    }),
    runAt(412, {
      pattern,
      scenario: 'slow-downstream',
      latencyMs: latency(8, 5000, 5000),
      failedLatencyMs: i === 0 ? latency(300, 5000, 5000, 52) : null,
      failure: failure(i % 2 === 0 ? { kind: 'not-recovered' } : { kind: 'recovered', ms: 1200 }, {
        successRate: 0.873,
        compensations: 1234,
        errorsByKind: { 'hop payments:timeout': 120, 'http 503': 30, ECONNRESET: 2, other: 1 },
      }),
    }),
  ]);
  const thresholds: ThresholdVerdict[] = [
    {
      expression: '*.p99<20ms',
      checks: runs.map((r) => ({ pattern: r.pattern, scenario: r.scenario, actual: r.latencyMs.p99, pass: r.latencyMs.p99 < 20 })),
      pass: false,
    },
  ];
  const base = resultsDoc(runs);
  return {
    ...base,
    scenarios: [...(base.scenarios ?? []), { id: 'slow-downstream', title: 'Slow downstream', description: 'Payments slow.' }],
    capacity: capacity(PATTERNS.map((p, i) => capacityRun(p, 589 + i * 1000, 48, ['orchestrator', 0.99]))),
    equalLoad: equalLoad(412, { pattern: 'direct', capacity: 589 }),
    thresholds,
  };
}

const doc = bigDoc();
const overWidth = (text: string) => text.split('\n').filter((l) => [...l].length > 100);

/**
 * The box-drawn tables right after the line `title` (more than one when a table was split
 * to fit): each its body rows as records by header.
 */
function boxTables(text: string, title: string): Record<string, string>[][] {
  const lines = text.split('\n');
  const at = lines.indexOf(title);
  expect(at, title).toBeGreaterThan(-1);
  const block: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!/^[┌│├└]/.test(line)) break;
    block.push(line);
  }
  const cells = (line: string) => line.split('│').slice(1, -1).map((c) => c.trim());
  const tables: string[][] = [];
  for (const line of block) {
    if (line.startsWith('┌')) tables.push([]);
    else if (line.startsWith('│')) tables.at(-1)?.push(line);
  }
  return tables.map(([head = '', ...rows]) => rows.map((r) => Object.fromEntries(cells(r).map((c, i) => [cells(head)[i] ?? '', c]))));
}

const cellsOf = (rows: readonly Record<string, string>[], ...headers: string[]) => rows.map((r) => headers.map((h) => r[h]));

/** The line after the last line of the table that follows `title`. */
function lineUnderTable(lines: readonly string[], title: string): string | undefined {
  let i = lines.indexOf(title);
  expect(i, title).toBeGreaterThan(-1);
  while (i + 1 < lines.length && !/^[┌│├└]/.test(lines[i + 1] as string)) i++;
  while (i + 1 < lines.length && /^[┌│├└]/.test(lines[i + 1] as string)) i++;
  return lines[i + 1];
}

describe('renderTables, condensed (the default)', () => {
  it('fits every line of a 7-pattern × 2-scenario run with failures, capacity and thresholds in 100 columns', () => {
    const text = renderTables(doc);
    expect(overWidth(text)).toEqual([]);
    for (const title of ['Failure behaviour (--wide: every invariant count, all error kinds)', 'Thresholds', 'CPU and threads']) {
      expect(text.split('\n'), title).toContain(title);
    }
  });

  it('puts a legend line directly under every table', () => {
    const lines = renderTables(doc).split('\n');
    const first = (legend: string) => wrap(legend)[0];
    expect(lineUnderTable(lines, 'Throughput and latency at equal load (412 orders/s, open loop)')).toBe(first(TABLE_LEGENDS.performance));
    expect(lineUnderTable(lines, 'Latency tail, scheduler lateness, accept latency and wire cost')).toBe(first(TABLE_LEGENDS.tail));
    expect(lineUnderTable(lines, 'Outcomes and invariants')).toBe(first(TABLE_LEGENDS.outcomes));
    expect(lineUnderTable(lines, 'CPU and threads')).toBe(first(TABLE_LEGENDS.cost));
    expect(lineUnderTable(lines, 'Queues, event logs and sagas')).toBe(first(TABLE_LEGENDS.async));
    expect(lineUnderTable(lines, 'Failure behaviour (--wide: every invariant count, all error kinds)')).toBe(first(TABLE_LEGENDS.failure));
    expect(lineUnderTable(lines, 'Thresholds')).toBe(first(THRESHOLD_LEGEND));
    expect(lineUnderTable(lines, 'Capacity: closed loop, 16 orders in flight, 1 s per pattern')).toBe(first(CAPACITY_LEGEND));
  });

  it('keeps every legend to one line', () => {
    for (const legend of [...Object.values(TABLE_LEGENDS), CAPACITY_LEGEND, THRESHOLD_LEGEND, CURVE_LEGEND, SLO_LEGEND]) expect(wrap(legend), legend).toHaveLength(1);
  });

  it("shows in the condensed failure table the full table's cells for the same figures", () => {
    const text = renderTables(doc);
    const row = summarize(doc).find((r) => r.pattern === 'saga-orchestration' && r.scenario === 'slow-downstream');
    if (!row) throw new Error('no row');
    const full = (header: string) => FAILURE_COLUMNS.find((c) => c.header === header)?.cell(row);
    const cells = Object.fromEntries(TERMINAL_FAILURE_COLUMNS.map((c) => [c.header, c.cell(row)]));
    expect(cells).toEqual({
      pattern: 'saga-orchestration',
      scenario: 'slow-downstream',
      success: full('success'),
      'p99 before→during ms': full('p99 before→during ms'),
      'recovered in': full('recovered in'),
      'lost/stuck': full('lost/stuck'),
      compensations: full('compensations'),
      'top error kind': 'hop payments:timeout 120',
    });
    expect(cells).toMatchObject({ success: '87%', 'recovered in': 'not within the window', compensations: '1,234' });
    expect(full('errors by kind')?.startsWith(`${cells['top error kind']},`)).toBe(true);
    // Each figure is in a row of saga-orchestration · slow-downstream on screen.
    const failureLines = text.split('\n').slice(text.split('\n').indexOf('Failure behaviour (--wide: every invariant count, all error kinds)'));
    const rowLines = failureLines.filter((l) => /^│ saga-orchestration +│ slow-downstream +│/.test(l));
    for (const value of Object.values(cells)) expect(rowLines.some((l) => l.includes(` ${value} `)), value).toBe(true);
  });

  it('shows scheduler lateness p99 in the latency tail table, still one table within 100 columns with the longest pattern and scenario names', () => {
    const tables = boxTables(renderTables(doc), 'Latency tail, scheduler lateness, accept latency and wire cost');
    expect(tables).toHaveLength(1);
    const rows = tables[0] ?? [];
    expect(Object.keys(rows[0] ?? {})).toEqual(['pattern', 'scenario', 'p99.9 ms', 'lateness p99', 'accept p50/p99', 'bytes', 'msgs']);
    // direct's generator ran 1.2 ms late at p99, every other 0.1 ms; the slow-downstream runs recorded none.
    expect(cellsOf(rows.filter((r) => r.pattern === 'direct' || r.pattern === 'queue'), 'pattern', 'scenario', 'lateness p99', 'accept p50/p99', 'bytes', 'msgs')).toEqual([
      ['direct', 'baseline', '1.20', '—', '1,500', '8.0'],
      ['direct', 'slow-downstream', '—', '—', '1,500', '8.0'],
      ['queue', 'baseline', '0.100', '0.800 / 2.50', '1,500', '8.0'],
      ['queue', 'slow-downstream', '—', '—', '1,500', '8.0'],
    ]);
  });

  it('leaves the lateness column out of a closed loop’s tail table, which has none', () => {
    const closed = resultsDoc([completedRun()], { concurrency: 8 });
    const [rows = []] = boxTables(renderTables(closed), 'Latency tail, scheduler lateness, accept latency and wire cost');
    expect(Object.keys(rows[0] ?? {})).toEqual(['pattern', 'scenario', 'p99.9 ms', 'bytes', 'msgs']);
  });

  it('wraps long notes and the definitions with a hanging indent', () => {
    const lines = renderTables(doc).split('\n');
    const note = lines.findIndex((l) => l.startsWith('direct (baseline): the load generator started orders up to 1.20 ms late'));
    expect(note).toBeGreaterThan(-1);
    expect(lines[note + 1]).toMatch(/^ {2}\S/);
    const capacityTerm = lines.findIndex((l) => l.startsWith('  capacity: '));
    expect(lines[capacityTerm + 1]).toMatch(/^ {4}\S/);
  });

  it('fits a sweep in 100 columns, a legend under each table', () => {
    const sweep = sweepDoc(PATTERNS.map((p) => curve(p, [step(400, 400, 2, 10), step(600, 598, 3, 30), step(900, 700, 9, 90, 0.95)], 'slo')));
    const text = renderTables(sweep);
    expect(overWidth(text)).toEqual([]);
    const lines = text.split('\n');
    expect(lines.filter((l) => l === CURVE_LEGEND)).toHaveLength(PATTERNS.length);
    expect(lineUnderTable(lines, 'Capacity at SLO (p99 ≤ 50 ms)')).toBe(SLO_LEGEND);
  });
});

describe('renderTables, wide', () => {
  it('prints the full failure table, headers and all', () => {
    const text = renderTables(doc, { wide: true });
    const header = text.split('\n').find((l) => l.startsWith('│ pattern') && l.includes('double-charged'));
    for (const h of FAILURE_COLUMNS.map((c) => c.header)) expect(header, h).toContain(h);
    expect(overWidth(text).length).toBeGreaterThan(0);
    expect(renderTables(doc)).not.toContain('double-charged');
  });

  it('shows scheduler lateness p99 in the full performance table and the failed orders’ p50 / p99 in the full failure table', () => {
    const text = renderTables(doc, { wide: true });
    const [perf = []] = boxTables(text, 'Throughput and latency at equal load (412 orders/s, open loop)');
    expect(cellsOf(perf.filter((r) => r.pattern === 'direct'), 'scenario', 'max ms', 'lateness p99 ms', 'accept p50/p99 ms')).toEqual([
      ['baseline', '20.0', '1.20', '—'],
      ['slow-downstream', '5,000', '—', '—'],
    ]);
    const [failed = []] = boxTables(text, 'Failure behaviour');
    // direct's 52 failed orders: p50 300 ms, p99 5 s; rest's none.
    expect(cellsOf(failed.filter((r) => r.pattern === 'direct' || r.pattern === 'rest'), 'pattern', 'success', 'failed p50/p99 ms')).toEqual([
      ['direct', '87%', '300 / 5,000'],
      ['rest', '87%', '—'],
    ]);
  });

  it('is the output of before the condensed tables: the unwrapped notes and definitions, no legend lines', () => {
    const text = renderTables(doc, { wide: true });
    expect(text).not.toContain(TABLE_LEGENDS.performance);
    expect(text.split('\n')).toContain('Outcomes, invariants and cost');
  });

  it('changes nothing for a small document but the layout: the same figures', () => {
    const small = resultsDoc([completedRun()]);
    expect(renderTables(small, { wide: true })).toContain('│ rest    │ baseline │');
    expect(renderTables(small)).toContain('│ rest    │ baseline │');
  });
});

describe('pattern-bench run in the terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-terminal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(interactive: boolean, ...extra: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive };
    const code = await main(['run', '--quick', '--patterns', 'direct', '--rate', '200', '--duration', '0.3', '--warmup', '0', '--out', dir, ...extra], io);
    return { code, out, err };
  }

  it('prints tables that fit 100 columns, and the full ones with --wide', async () => {
    const narrow = await run(false);
    expect(narrow.code, narrow.err).toBe(0);
    expect(overWidth(narrow.out)).toEqual([]);
    expect(narrow.out).toContain(TABLE_LEGENDS.performance);
    expect(narrow.err).toMatch(/^\[1\/1\] direct · baseline starting\n/);
    const wide = await run(false, '--wide');
    expect(wide.code, wide.err).toBe(0);
    expect(wide.out.split('\n')).toContain('Outcomes, invariants and cost');
    expect(wide.out).toContain('accept p50/p99 ms');
    expect(wide.out).not.toContain(TABLE_LEGENDS.performance);
  }, 60_000);

  it('draws a progress bar on a terminal, without colour under --no-color', async () => {
    const plain = await run(true, '--no-color');
    expect(plain.code, plain.err).toBe(0);
    expect(plain.err).toContain('0/1 runs · ETA … · direct · baseline · starting');
    expect(plain.err).toContain('[1/1] direct · baseline ');
    expect(plain.err).not.toContain('\x1b[32m');
    expect(overWidth(plain.out)).toEqual([]);
  }, 60_000);

  it('allows colour only on a terminal, without --no-color and NO_COLOR', () => {
    const tty: CliIo = { out: () => {}, err: () => {}, interactive: true };
    expect(colorEnabled(tty, true, {})).toBe(true);
    expect(colorEnabled(tty, false, {})).toBe(false);
    expect(colorEnabled(tty, true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ ...tty, interactive: false }, true, {})).toBe(false);
  });
});
