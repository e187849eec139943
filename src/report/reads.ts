/**
 * What the reads of a run say, in sentences made from the rows (issue #16): which
 * patterns kept answering reads of a customer's orders through a fault, and which showed a
 * client its own completed order late (read-your-writes).
 */
import { ttcMs } from './columns.js';
import { fmtInt, fmtMs } from './format.js';
import type { SummaryRow } from './summary.js';

const names = (rows: readonly SummaryRow[]): string => rows.map((r) => r.pattern).join(', ');

const share = (part: number, whole: number): string => {
  const pct = (part / whole) * 100;
  return pct > 0 && pct < 10 ? `${pct.toFixed(1)}%` : `${pct.toFixed(0)}%`;
};

/** The orders' success beside the reads: `, while 64–100% of their orders succeeded`, when some orders failed. */
function ordersBeside(rows: readonly SummaryRow[]): string {
  const rates = rows.flatMap((r) => (r.failure ? [r.failure.successRate] : []));
  if (rates.length === 0 || Math.min(...rates) >= 0.995) return '';
  const pct = (x: number) => `${Math.floor(x * 100)}%`;
  const low = Math.min(...rates);
  const high = Math.max(...rates);
  return `, while ${pct(low) === pct(high) ? pct(low) : `${Math.floor(low * 100)}–${pct(high)}`} of their orders succeeded`;
}

/** Through a fault: who answered every read, and who failed how many. */
function throughFault(scenario: string, group: readonly SummaryRow[]): string[] {
  const reading = group.filter((r) => r.reads && r.reads.placed > 0);
  if (reading.length === 0) return [];
  const answered = reading.filter((r) => r.reads?.failed === 0);
  const failing = reading.filter((r) => (r.reads?.failed ?? 0) > 0);
  const out: string[] = [];
  if (answered.length > 0) {
    const who = answered.length === reading.length ? `every pattern (${answered.length} of ${reading.length})` : `${names(answered)} (${answered.length} of ${reading.length} patterns)`;
    out.push(`Through ${scenario}, ${who} answered every read of a customer's orders${ordersBeside(answered)}.`);
  }
  for (const r of failing) {
    const { failed = 0, placed = 0 } = r.reads ?? {};
    out.push(`Through ${scenario}, ${r.pattern} failed ${fmtInt(failed)} of ${fmtInt(placed)} reads (${share(failed, placed)}).`);
  }
  return out;
}

/** Read-your-writes: who showed every client its order at once, who showed some late and for how long. */
function readYourWrites(where: string, group: readonly SummaryRow[]): string[] {
  const checked = group.filter((r) => (r.reads?.consistency?.checked ?? 0) > 0);
  if (checked.length === 0) return [];
  const fresh = checked.filter((r) => r.reads?.consistency?.stale === 0 && r.reads.consistency.unresolved === 0);
  const out: string[] = [];
  if (fresh.length > 0) {
    const who = fresh.length === checked.length ? 'Every pattern' : names(fresh);
    out.push(`${who} showed each client its own completed order at its first read${where} (read-your-writes: 0 stale).`);
  }
  for (const r of checked.filter((x) => !fresh.includes(x))) {
    const c = r.reads?.consistency;
    if (!c) continue;
    const ttc = c.timeToConsistencyMs;
    const late = `${r.pattern}'s first read missed ${share(c.stale, c.checked)} of its clients' own completed orders${where} (${fmtInt(c.stale)} of ${fmtInt(c.checked)})`;
    // The slowest of them, not p99: with a few stale among many, p99 is the 0 of the orders shown at once.
    const until = ttc && ttc.count > 0 && ttc.max > 0.001 ? `; the last of them showed ${fmtMs(ttc.max)} ms after it completed (time to consistency p99 ${ttcMs(ttc.p99)} ms)` : '';
    const never = c.unresolved > 0 ? `; ${fmtInt(c.unresolved)} never within the bound` : '';
    out.push(`${late}${until}${never}.`);
  }
  return out;
}

/** The reads' sentences, scenario by scenario; none without reads. */
export function readObservations(rows: readonly SummaryRow[]): string[] {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  return scenarios.flatMap((scenario) => {
    const group = rows.filter((r) => r.scenario === scenario);
    const faulted = group.some((r) => r.failure?.applied);
    return [...(faulted ? throughFault(scenario, group) : []), ...readYourWrites(scenarios.length > 1 ? ` in ${scenario}` : '', group)];
  });
}
