import Table from 'cli-table3';
import type { ResultsDocument } from '../bench/results.js';
import { PLACEMENT_DESCRIPTIONS } from '../placement/types.js';
import { ASYNC_COLUMNS, FAILURE_COLUMNS, hasAsyncFigures, latenessNotes, OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, saturationNotes, type Column } from './columns.js';
import { definitionsLegend } from './definitions.js';
import { coordinatedOmissionWarning, loadLine, mainTableTitle, renderCapacityTable } from './load.js';
import { summarize, type SummaryRow } from './summary.js';
import { isSweepOnly, renderSweepTables } from './sweep.js';
import { renderThresholdTable } from './thresholds.js';

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
  const p = doc.config.placement;
  return `Placement: ${p} — ${PLACEMENT_DESCRIPTIONS[p] ?? 'unknown placement'}`;
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
    ...(latenessNotes(rows).length > 0 ? ['scheduler lateness'] : []),
  ];
}

/**
 * The terminal tables for a results document (plain strings, no colour codes): the
 * placement and load, the capacity phase, the tables at equal load, the notes on what
 * the figures measure, the thresholds, errored runs and a legend of the terms shown.
 * A sweep's document shows the sweep.
 */
export function renderTables(doc: ResultsDocument): string {
  if (isSweepOnly(doc)) return [placementLine(doc), '', renderSweepTables(doc)].join('\n');
  const rows = summarize(doc);
  const errored = rows.flatMap((r) => r.errors.map((e) => `  ${r.pattern} / ${r.scenario} trial ${e.trial}: ${e.code}: ${e.message}`));
  const warning = coordinatedOmissionWarning(doc);
  const notes = [...saturationNotes(rows), ...latenessNotes(rows), ...(warning ? [warning] : [])];
  const capacity = renderCapacityTable(doc);
  const thresholds = renderThresholdTable(doc.thresholds ?? []);
  return [
    placementLine(doc),
    `Load: ${loadLine(doc)}`,
    ...(capacity ? ['', capacity] : []),
    '',
    mainTableTitle(doc),
    render(PERFORMANCE_COLUMNS, rows),
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
