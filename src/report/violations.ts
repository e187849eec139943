/**
 * "Broken invariants explained": per run whose checker found a violation, per broken
 * invariant, its first offenders and each one's journey (ms, service, what) with a one-line
 * reading of the story. Pure functions over the results document.
 */
import type { CompletedRun, JourneyEvent, ResultsDocument, Violation } from '../bench/results.js';
import { fmtInt } from './format.js';

type Journey = readonly JourneyEvent[];

export const VIOLATIONS_TITLE = 'Broken invariants explained';

/** The runs with violations, in the document's order. */
function runsWithViolations(doc: ResultsDocument): CompletedRun[] {
  return doc.runs.filter((r): r is CompletedRun => r.state === 'completed' && (r.violations?.length ?? 0) > 0);
}

/** The id of a run's violations in the HTML report. */
export function violationsAnchor(run: Pick<CompletedRun, 'pattern' | 'scenario' | 'trial'>): string {
  return `violations-${run.pattern}-${run.scenario}-${run.trial}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** Per `pattern/scenario`, the anchor of its first trial with violations: where a BROKEN cell links to. */
export function violationLinks(doc: ResultsDocument): Map<string, string> {
  const links = new Map<string, string>();
  for (const run of runsWithViolations(doc)) {
    const key = `${run.pattern}/${run.scenario}`;
    if (!links.has(key)) links.set(key, violationsAnchor(run));
  }
  return links;
}

/** A journey's ms: a tenth where it has one, grouped from 1,000. */
function ms(n: number): string {
  return Math.abs(n) >= 1000 ? fmtInt(n) : String(n);
}

/** One journey event as a clause of the story, or null for those the story leaves out. */
function clause(e: JourneyEvent): string | null {
  const at = `at ${ms(e.ms)} ms`;
  switch (e.event) {
    case 'charged':
      return `charged ${at}`;
    case 'declined':
      return `charge declined ${at}`;
    case 'refunded':
      return `refunded ${at}`;
    case 'reserved':
      return `reserved ${at}`;
    case 'rejected':
      return `stock refused ${at}`;
    case 'released':
      return `released ${at}`;
    case 'errored':
      return `client error ${e.code ?? ''} ${at}`;
    case 'no-answer':
      return `no answer by the drain deadline (${ms(e.ms)} ms)`;
    case 'status':
      return e.status === 'CONFIRMED' ? `confirmed ${at}` : e.status === 'CANCELLED' ? `cancelled${e.reason ? ` (${e.reason})` : ''} ${at}` : null;
    default:
      return null;
  }
}

/** What the invariant says the journey lacks or has too much of, or null. */
function verdict(invariant: string, journey: Journey): string | null {
  const has = (event: JourneyEvent['event']) => journey.some((e) => e.event === event);
  const statuses = journey.filter((e) => e.event === 'status');
  switch (invariant) {
    case 'leakedCharges':
      return has('refunded') ? 'refunded less than charged' : 'never refunded';
    case 'leakedReservations':
      return has('released') ? 'still holds stock' : 'never released';
    case 'doubleCharged':
      return `charged ${journey.filter((e) => e.event === 'charged').length} times`;
    case 'stuck':
      return `left at ${statuses.at(-1)?.status ?? 'an unknown status'}`;
    case 'lost':
      return statuses.length === 0 ? 'the system has no record of it' : null;
    case 'missingEffects':
      return !has('charged') ? 'never charged' : !has('reserved') ? 'never reserved' : null;
    case 'unexpectedEffects':
      return has('placed') ? null : 'never placed by the client';
    default:
      return null;
  }
}

/** The one-line reading of a journey, e.g. "charged at 12 ms, cancelled (downstream_error) at 2,010 ms, never refunded". */
export function storyOf(invariant: string, journey: Journey): string {
  const parts = journey.map(clause).filter((c): c is string => c !== null);
  const end = verdict(invariant, journey);
  if (end) parts.push(end);
  return parts.length > 0 ? parts.join(', ') : 'no event recorded';
}

function runTitle(run: CompletedRun): string {
  return `${run.pattern} / ${run.scenario}, trial ${run.trial}`;
}

function offendersLine(v: Violation): string {
  if (v.skus) return `**${v.invariant}** (${fmtInt(v.count)}): per SKU — ${v.skus.map((s) => `\`${s}\``).join(', ')}; no order to show.`;
  const shown = v.orders.length < v.count ? ` — the first ${v.orders.length} of ${fmtInt(v.count)}` : '';
  return `**${v.invariant}** (${fmtInt(v.count)}): ${v.orders.map((o) => `\`${o.orderId}\``).join(', ')}${shown}`;
}

const cellText = (s: string) => s.replace(/\|/g, '\\|');

/** The markdown section, or [] when no run broke an invariant. */
export function violationsMarkdown(doc: ResultsDocument): string[] {
  const runs = runsWithViolations(doc);
  if (runs.length === 0) return [];
  const out = [`## ${VIOLATIONS_TITLE}`, '', 'Per broken invariant, its first offenders (at most 3) and what happened to each, ms from when the client placed it.', ''];
  for (const run of runs) {
    out.push(`### ${runTitle(run)}`, '');
    for (const v of run.violations ?? []) {
      out.push(offendersLine(v), '');
      for (const o of v.orders) {
        out.push(`\`${o.orderId}\`: ${storyOf(v.invariant, o.journey)}.`, '', '| ms | service | what |', '| ---: | --- | --- |');
        out.push(...o.journey.map((e) => `| ${ms(e.ms)} | ${e.service} | ${cellText(e.what)} |`), '');
      }
    }
  }
  return out;
}

/** The HTML section (each run's violations under `violationsAnchor`), or '' when no run broke an invariant. `esc` escapes text. */
export function violationsHtml(doc: ResultsDocument, esc: (text: string) => string): string {
  const runs = runsWithViolations(doc);
  if (runs.length === 0) return '';
  const journey = (j: Journey) =>
    `<table class="compact"><thead><tr><th class="num">ms</th><th>service</th><th>what</th></tr></thead><tbody>${j
      .map((e) => `<tr><td class="num">${esc(ms(e.ms))}</td><td>${esc(e.service)}</td><td>${esc(e.what)}</td></tr>`)
      .join('')}</tbody></table>`;
  const violation = (v: Violation) => {
    const head = v.skus
      ? `<p><strong>${esc(v.invariant)}</strong> (${esc(fmtInt(v.count))}): per SKU — ${esc(v.skus.join(', '))}; no order to show.</p>`
      : `<p><strong>${esc(v.invariant)}</strong> (${esc(fmtInt(v.count))}): ${esc(v.orders.map((o) => o.orderId).join(', '))}</p>`;
    return head + v.orders.map((o) => `<p><code>${esc(o.orderId)}</code>: ${esc(storyOf(v.invariant, o.journey))}.</p>${journey(o.journey)}`).join('\n');
  };
  const blocks = runs.map((run) => `<div id="${esc(violationsAnchor(run))}"><h3>${esc(runTitle(run))}</h3>\n${(run.violations ?? []).map(violation).join('\n')}</div>`);
  return `<section id="violations"><h2>${esc(VIOLATIONS_TITLE)}</h2>\n${blocks.join('\n')}\n</section>`;
}

/** A BROKEN cell's HTML (`cellHtml`, already escaped) as a link to its run's violations, when it has some. */
export function linkBroken(cellHtml: string, row: { readonly pattern: string; readonly scenario: string }, links: ReadonlyMap<string, string>): string {
  const anchor = links.get(`${row.pattern}/${row.scenario}`);
  return anchor && cellHtml.startsWith('BROKEN') ? `<a href="#${anchor}">${cellHtml}</a>` : cellHtml;
}
