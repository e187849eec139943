import Table from 'cli-table3';
import type { ResultsDocument } from '../bench/results.js';
import { PLACEMENT_DESCRIPTIONS } from '../placement/types.js';
import { ASYNC_COLUMNS, FAILURE_COLUMNS, hasAsyncFigures, OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, saturationNotes, type Column } from './columns.js';
import { summarize, type SummaryRow } from './summary.js';

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

/** The terminal tables for a results document (plain strings, no colour codes). */
export function renderTables(doc: ResultsDocument): string {
  const rows = summarize(doc);
  const errored = rows.flatMap((r) => r.errors.map((e) => `  ${r.pattern} / ${r.scenario} trial ${e.trial}: ${e.code}: ${e.message}`));
  const saturated = saturationNotes(rows);
  return [
    placementLine(doc),
    '',
    'Throughput and latency',
    render(PERFORMANCE_COLUMNS, rows),
    '',
    'Outcomes, invariants and cost',
    render(OUTCOME_COLUMNS, rows),
    ...saturated,
    ...(rows.some(hasAsyncFigures) ? ['', 'Queues, event logs and sagas', render(ASYNC_COLUMNS, rows.filter(hasAsyncFigures))] : []),
    ...(rows.some((r) => r.failure) ? ['', 'Failure behaviour', render(FAILURE_COLUMNS, rows.filter((r) => r.failure))] : []),
    ...(errored.length > 0 ? ['', 'Errored runs', ...errored] : []),
  ].join('\n');
}
