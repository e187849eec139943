import Table from 'cli-table3';
import type { ResultsDocument } from '../bench/results.js';
import { fmtInt, fmtMs } from './format.js';
import { invariantVerdict, summarize, type SummaryRow } from './summary.js';

/** b relative to a, as a signed percentage; "—" when either side is missing. */
function change(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || a === 0) return '—';
  const pct = ((b - a) / a) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/**
 * Two results documents side by side, per pattern × scenario present in either: orders/s,
 * p50 and p99 of each and the change from the first to the second, and both verdicts.
 * Runs on different machines or configs are flagged, not refused.
 */
export function renderComparison(a: ResultsDocument, b: ResultsDocument, names: readonly [string, string]): string {
  const rowsA = summarize(a);
  const rowsB = summarize(b);
  const key = (r: SummaryRow) => `${r.pattern} / ${r.scenario}`;
  const keys = [...new Set([...rowsA.map(key), ...rowsB.map(key)])];
  const table = new Table({
    head: ['pattern / scenario', 'orders/s A', 'orders/s B', 'Δ', 'p50 A→B ms', 'p99 A→B ms', 'Δ p99', 'invariants A', 'invariants B'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
    style: { head: [], border: [] },
  });
  for (const k of keys) {
    const ra = rowsA.find((r) => key(r) === k);
    const rb = rowsB.find((r) => key(r) === k);
    table.push([
      k,
      fmtInt(ra?.achieved?.median),
      fmtInt(rb?.achieved?.median),
      change(ra?.achieved?.median, rb?.achieved?.median),
      `${fmtMs(ra?.latencyMs?.p50)} → ${fmtMs(rb?.latencyMs?.p50)}`,
      `${fmtMs(ra?.latencyMs?.p99)} → ${fmtMs(rb?.latencyMs?.p99)}`,
      change(ra?.latencyMs?.p99, rb?.latencyMs?.p99),
      ra ? invariantVerdict(ra.invariants) : 'not run',
      rb ? invariantVerdict(rb.invariants) : 'not run',
    ]);
  }
  const notes: string[] = [];
  const env = (d: ResultsDocument) => `${d.environment.cpus} × ${d.environment.cpuModel}, Node.js ${d.environment.node}`;
  if (env(a) !== env(b)) notes.push(`Different machines: A ran on ${env(a)}, B on ${env(b)}.`);
  const load = (d: ResultsDocument) => JSON.stringify({ load: d.config.load, durationMs: d.config.durationMs, broker: d.config.broker, eventStore: d.config.eventStore });
  if (load(a) !== load(b)) notes.push(`Different load or services: A ${load(a)}, B ${load(b)}.`);
  return [`A: ${names[0]} (${a.startedAt})`, `B: ${names[1]} (${b.startedAt})`, table.toString(), ...notes].join('\n');
}
