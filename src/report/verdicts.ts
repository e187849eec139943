import type { ResultsDocument } from '../bench/results.js';
import { atLeast } from '../metrics/histogram.js';
import { fmtInt, fmtPercent } from './format.js';
import { capacities } from './observations.js';
import { invariantVerdict, summarize, type SummaryRow } from './summary.js';

/** One pattern's verdict: `queue: 4.6k orders/s capacity, p99 8 ms at equal load; kept every order through the payments outage`. */
export interface Verdict {
  readonly pattern: string;
  /** The whole sentence, starting with `<pattern>: `. */
  readonly sentence: string;
}

/** Orders/s for a headline: `412`, `4.6k`, `12k`, `1.2M`. */
export function compactRate(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const trim = (s: string) => s.replace(/\.0$/, '');
  if (n < 1000) return fmtInt(n);
  if (n < 10_000) return `${trim((n / 1000).toFixed(1))}k`;
  if (n < 1_000_000) return `${fmtInt(n / 1000)}k`;
  return `${trim((n / 1_000_000).toFixed(1))}M`;
}

/** Milliseconds for a headline: `0.42`, `8`, `8.3`, `24`, `1,204` (two significant figures below 10). */
export function shortMs(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n >= 10) return fmtInt(n);
  if (n >= 1) return n.toFixed(1).replace(/\.0$/, '');
  return String(Number(n.toPrecision(2)));
}

/** `through the payments outage`: the scenario's title as the doc describes it, else its id. */
function through(doc: ResultsDocument, scenario: string): string {
  const title = doc.scenarios?.find((s) => s.id === scenario)?.title ?? scenario;
  return `through the ${title.charAt(0).toLowerCase()}${title.slice(1)}`;
}

/** How the rows were loaded, as a verdict says it after the p99. */
function loadPhrase(doc: ResultsDocument): string {
  const { load } = doc.config;
  if (load.kind === 'closed') return 'closed loop';
  if (load.kind === 'open' || doc.equalLoad?.source === 'fixed') return `at ${compactRate(doc.equalLoad?.rate ?? (load.kind === 'open' ? load.rate : 0))} orders/s`;
  return 'at equal load';
}

/** The scenario a pattern's headline latency comes from: the first without fault figures, else the first. */
export function primaryScenario(rows: readonly SummaryRow[]): string | null {
  return (rows.find((r) => !r.failure) ?? rows[0])?.scenario ?? null;
}

/** What a fault scenario did to one pattern, or null when it did not reach it. */
function faultPhrase(doc: ResultsDocument, row: SummaryRow): string | null {
  const where = through(doc, row.scenario);
  if (row.completedTrials === 0) return row.errors[0] ? `errored ${where} (${row.errors[0].code})` : null;
  const f = row.failure;
  if (!f || !f.applied) return null;
  const inv = row.invariants;
  if (inv && !inv.ok) return `broke its invariants ${where} (${invariantVerdict(inv).replace('BROKEN: ', '')})`;
  const notes: string[] = [];
  if (f.successRate < 1) notes.push(`${fmtPercent(f.successRate)} succeeded`);
  const r = f.recovery;
  if (r.kind === 'recovered') notes.push(`recovered in ${shortMs(r.ms)} ms`);
  if (r.kind === 'not-recovered') notes.push(r.trials === r.of ? 'not recovered within the window' : `not recovered in ${r.trials} of ${r.of} trials`);
  // Failed orders reached an outcome (cancelled and compensated); only lost or stuck ones were not kept.
  const kept = f.successRate < 1 ? 'lost no order' : 'kept every order';
  return `${kept} ${where}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
}

/**
 * One sentence per pattern, in the order the patterns ran, every figure read from the
 * document: capacity, p99 of the first fault-free scenario and how it was loaded, what each
 * fault scenario did to it, and its largest backlog.
 */
export function verdicts(doc: ResultsDocument): Verdict[] {
  const rows = summarize(doc);
  const capacity = new Map(capacities(doc.capacity).map((c) => [c.pattern, c.ordersPerSecond]));
  const patterns = [...new Set([...rows.map((r) => r.pattern), ...capacity.keys(), ...(doc.sweep?.curves.map((c) => c.pattern) ?? [])])];
  const load = loadPhrase(doc);
  return patterns.map((pattern) => {
    const own = rows.filter((r) => r.pattern === pattern);
    const main = own.find((r) => r.scenario === primaryScenario(own));
    const head: string[] = [];
    const cap = capacity.get(pattern);
    if (cap !== undefined) head.push(`${compactRate(cap)} orders/s capacity`);
    const knee = doc.sweep?.curves.find((c) => c.pattern === pattern)?.knee;
    if (knee !== undefined) head.push(knee === null ? 'no sweep step within the SLO' : `knee at ${compactRate(knee)} orders/s`);
    if (main?.latencyMs) head.push(`p99 ${atLeast(main.latencyMs, 99) ? '≥ ' : ''}${shortMs(main.latencyMs.p99)} ms ${load}`);
    else if (main && main.errors[0]) head.push(`errored (${main.errors[0].code})`);
    if (main?.invariants && !main.invariants.ok) head.push(`invariants ${invariantVerdict(main.invariants)}`);

    const parts = head.length > 0 ? [head.join(', ')] : [];
    for (const r of own) {
      if (r === main) continue;
      const phrase = faultPhrase(doc, r);
      if (phrase) parts.push(phrase);
    }
    const backlog = [...own].filter((r) => r.backlog && r.backlog.peakDepth > 0).sort((a, b) => (b.backlog?.peakDepth ?? 0) - (a.backlog?.peakDepth ?? 0))[0]?.backlog;
    if (backlog) parts.push(backlog.drainMs === null ? `backlog of ${fmtInt(backlog.peakDepth)} not drained` : `backlog of ${fmtInt(backlog.peakDepth)} drained in ${shortMs(backlog.drainMs)} ms`);
    return { pattern, sentence: `${pattern}: ${parts.length > 0 ? parts.join('; ') : 'no figures'}` };
  });
}
