import Table from 'cli-table3';
import type { ResultsDocument } from '../bench/results.js';
import { whereDescription, whereName } from '../placement/types.js';
import {
  ASYNC_COLUMNS,
  FAILURE_COLUMNS,
  hasAsyncFigures,
  hasReads,
  latenessNotes,
  OUTCOME_COLUMNS,
  PERFORMANCE_COLUMNS,
  READ_COLUMNS,
  readShareLine,
  saturationNotes,
  TERMINAL_COST_COLUMNS,
  TERMINAL_FAILURE_COLUMNS,
  TERMINAL_OUTCOME_COLUMNS,
  TERMINAL_PERFORMANCE_COLUMNS,
  TERMINAL_READ_COLUMNS,
  TERMINAL_TAIL_COLUMNS,
  type Column,
} from './columns.js';
import { definitionsLegend } from './definitions.js';
import { CAPACITY_LEGEND, coordinatedOmissionWarning, loadLine, mainTableTitle, renderCapacityTable } from './load.js';
import { summarize, type SummaryRow } from './summary.js';
import { readObservations } from './reads.js';
import { isSweepOnly, renderSweepTables } from './sweep.js';
import { fitTable, TERMINAL_WIDTH, wrap, type TerminalOptions } from './terminal.js';
import { renderThresholdTable, THRESHOLD_LEGEND } from './thresholds.js';

export type { TerminalOptions } from './terminal.js';

function render(columns: readonly Column[], rows: readonly SummaryRow[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align),
    style: { head: [], border: [] },
  });
  for (const row of rows) table.push(columns.map((c) => c.cell(row)));
  return table.toString();
}

/** Where the system ran, the same for every pattern of the run. */
export function placementLine(doc: ResultsDocument): string {
  const { placement, topology } = doc.config;
  return `Placement: ${whereName(placement, topology)} — ${whereDescription(placement, topology)}`;
}

/**
 * The terms a run's tables use, for the terminal legend: only what is on screen (the
 * markdown report lists every term).
 */
export function legendTerms(doc: ResultsDocument, rows: readonly SummaryRow[]): string[] {
  const open = doc.config.load.kind === 'equal' || doc.config.load.kind === 'open';
  const faulted = rows.some((r) => r.failure);
  return [
    ...(doc.capacity ? ['capacity'] : []),
    ...(open ? ['equal load', 'offered'] : []),
    'achieved',
    'latency',
    ...(doc.config.trials > 1 ? ['percentiles over trials'] : []),
    'samples (n)',
    'CPU per order',
    'busiest thread',
    'wire per order',
    ...(rows.some((r) => r.backlog) ? ['backlog'] : []),
    ...(rows.some((r) => r.projection) ? ['projection lag'] : []),
    ...(rows.some((r) => r.compensationMs && r.compensationMs.count > 0) ? ['compensated'] : []),
    ...(faulted ? ['success', 'before / during / after', 'time to recover'] : []),
    ...(rows.some((r) => r.schedulerLatenessP99Ms !== null) ? ['scheduler lateness'] : []),
  ];
}

/** What each condensed table's columns mean, in the one line under it (the Definitions below say more). */
export const TABLE_LEGENDS = {
  performance: 'orders/s: achieved · n: orders timed · latency ms from intended start to outcome; ≥: a lower bound',
  tail: 'lateness: generator behind schedule · accept: until the system took it · wire: bytes, msgs per order',
  outcomes: "the window's orders by outcome (failed: failed or timed out) · invariants: OK, or what broke",
  cost: "CPU per order, µs: system threads / generator · busy: the event loop's share of the window",
  reads: 'n: reads timed · latency from intended start · stale: own order not shown at once · TTC: until shown',
  async: 'backlog: most waiting / ms to drain · projection lag · compensated: failed step to last compensation',
  failure: 'success: orders with an outcome · p99 before→during the fault · time to recover · top error kind',
} as const;

/**
 * A condensed table: the columns whose cells are all — left out (keys stay), the rest in
 * as many tables as fit `width`, each repeating pattern and scenario; then its legend line.
 */
function condensed(columns: readonly Column[], rows: readonly SummaryRow[], legend: string, width: number): string {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const shown = columns.map((_, i) => i).filter((i) => i < 2 || cells.some((row) => row[i] !== '—'));
  const table = fitTable(
    shown.map((i) => columns[i]?.header ?? ''),
    shown.map((i) => columns[i]?.align ?? 'left'),
    cells.map((row) => shown.map((i) => row[i] ?? '')),
    2,
    width,
  );
  return [table, ...wrap(legend, width)].join('\n');
}

/**
 * The terminal tables for a results document (plain strings, no colour codes): the
 * placement and load, the capacity phase, the tables at equal load, the notes on what
 * the figures measure, the thresholds, errored runs and a legend of the terms shown.
 * A sweep's document shows the sweep.
 *
 * By default condensed to fit `options.width` (100) columns: fewer columns per table, a
 * legend line under each, long lines wrapped. `options.wide`: the full tables, as the
 * markdown report has them.
 */
export function renderTables(doc: ResultsDocument, options: TerminalOptions = {}): string {
  if (!options.wide) return renderCondensed(doc, options.width ?? TERMINAL_WIDTH);
  if (isSweepOnly(doc)) return [placementLine(doc), '', renderSweepTables(doc, options)].join('\n');
  const rows = summarize(doc);
  const errored = rows.flatMap((r) => r.errors.map((e) => `  ${r.pattern} / ${r.scenario} trial ${e.trial}: ${e.code}: ${e.message}`));
  const warning = coordinatedOmissionWarning(doc);
  const notes = [...saturationNotes(rows), ...latenessNotes(rows), ...(warning ? [warning] : [])];
  const capacity = renderCapacityTable(doc);
  const thresholds = renderThresholdTable(doc.thresholds ?? []);
  return [
    placementLine(doc),
    `Load: ${loadLine(doc)}`,
    ...readLines(doc),
    ...(capacity ? ['', capacity] : []),
    '',
    mainTableTitle(doc),
    render(PERFORMANCE_COLUMNS, rows),
    ...(hasReads(rows) ? ['', 'Reads of a customer\'s orders', render(READ_COLUMNS, rows)] : []),
    '',
    'Outcomes, invariants and cost',
    render(OUTCOME_COLUMNS, rows),
    ...(rows.some(hasAsyncFigures) ? ['', 'Queues, event logs and sagas', render(ASYNC_COLUMNS, rows.filter(hasAsyncFigures))] : []),
    ...(rows.some((r) => r.failure) ? ['', 'Failure behaviour', render(FAILURE_COLUMNS, rows.filter((r) => r.failure))] : []),
    ...(notes.length > 0 ? ['', ...notes] : []),
    ...(thresholds ? ['', 'Thresholds', thresholds] : []),
    ...(errored.length > 0 ? ['', 'Errored runs', ...errored] : []),
    '',
    ...definitionsLegend(legendTerms(doc, rows)),
  ].join('\n');
}

/** The mixed workload's header line, when there are reads. */
function readLines(doc: ResultsDocument): string[] {
  const line = readShareLine(doc.config.readShare);
  return line ? [line] : [];
}

function renderCondensed(doc: ResultsDocument, width: number): string {
  const lines = (text: string) => wrap(text, width);
  if (isSweepOnly(doc)) return [...lines(placementLine(doc)), '', renderSweepTables(doc, { width })].join('\n');
  const rows = summarize(doc);
  const errored = rows.flatMap((r) => r.errors.map((e) => `  ${r.pattern} / ${r.scenario} trial ${e.trial}: ${e.code}: ${e.message}`));
  const warning = coordinatedOmissionWarning(doc);
  const notes = [...saturationNotes(rows), ...latenessNotes(rows), ...(warning ? [warning] : [])];
  const capacity = renderCapacityTable(doc, width);
  const thresholds = renderThresholdTable(doc.thresholds ?? [], width);
  const faulted = rows.filter((r) => r.failure);
  const asyncRows = rows.filter(hasAsyncFigures);
  return [
    ...lines(placementLine(doc)),
    ...lines(`Load: ${loadLine(doc)}`),
    ...readLines(doc).flatMap(lines),
    ...(capacity ? ['', capacity, ...lines(CAPACITY_LEGEND)] : []),
    '',
    ...lines(mainTableTitle(doc)),
    condensed(TERMINAL_PERFORMANCE_COLUMNS, rows, TABLE_LEGENDS.performance, width),
    '',
    'Latency tail, scheduler lateness, accept latency and wire cost',
    condensed(TERMINAL_TAIL_COLUMNS, rows, TABLE_LEGENDS.tail, width),
    ...(hasReads(rows) ? ['', "Reads of a customer's orders", condensed(TERMINAL_READ_COLUMNS, rows, TABLE_LEGENDS.reads, width), ...readObservations(rows).flatMap((o) => wrap(o, width))] : []),
    '',
    'Outcomes and invariants',
    condensed(TERMINAL_OUTCOME_COLUMNS, rows, TABLE_LEGENDS.outcomes, width),
    '',
    'CPU and threads',
    condensed(TERMINAL_COST_COLUMNS, rows, TABLE_LEGENDS.cost, width),
    ...(asyncRows.length > 0 ? ['', 'Queues, event logs and sagas', condensed(ASYNC_COLUMNS, asyncRows, TABLE_LEGENDS.async, width)] : []),
    ...(faulted.length > 0 ? ['', 'Failure behaviour (--wide: every invariant count, all error kinds)', condensed(TERMINAL_FAILURE_COLUMNS, faulted, TABLE_LEGENDS.failure, width)] : []),
    ...(notes.length > 0 ? ['', ...notes.flatMap(lines)] : []),
    ...(thresholds ? ['', 'Thresholds', thresholds, ...lines(THRESHOLD_LEGEND)] : []),
    ...(errored.length > 0 ? ['', 'Errored runs', ...errored.flatMap((e) => wrap(e, width, 2))] : []),
    '',
    ...definitionsLegend(legendTerms(doc, rows)).flatMap((l) => wrap(l, width, 2)),
  ].join('\n');
}
