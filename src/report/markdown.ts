import { markdownTable } from 'markdown-table';
import type { ResultsDocument } from '../bench/results.js';
import { whereDescription, whereName } from '../placement/types.js';
import { describePolicy, RESILIENCE_POLICIES } from '../resilience/policies.js';
import { ASYNC_COLUMNS, FAILURE_COLUMNS, hasAsyncFigures, hasReads, latenessNotes, OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, percentileText, READ_COLUMNS, readShareLine, saturationNotes, type Column } from './columns.js';
import { definitionsMarkdown } from './definitions.js';
import { fmtInt } from './format.js';
import { capacityMarkdown, coordinatedOmissionWarning, loadLine, mainTableTitle } from './load.js';
import { capacities, observe } from './observations.js';
import { readObservations } from './reads.js';
import { why } from './why.js';
import { invariantVerdict, summarize, type SummaryRow } from './summary.js';
import { isSweepOnly, kneeStep, renderSweepMarkdown } from './sweep.js';
import { thresholdMarkdown } from './thresholds.js';
import { journeyDiagrams, journeysNote, otlpLine, TRACING_COST_HEADER, TRACING_COST_NUMERIC, tracingCostRows, type TracesView } from './traces.js';
import { violationsMarkdown } from './violations.js';

function table(columns: readonly Column[], rows: readonly SummaryRow[]): string {
  // Pipes inside cells would split them.
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return markdownTable([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => esc(c.cell(r))))], {
    align: columns.map((c) => (c.align === 'right' ? 'r' : 'l')),
  });
}

/** What the markdown report embeds besides the results. */
export interface MarkdownOptions {
  /** Charts written beside the report: each shown as `![title](file)`, `file` relative to the report. None: no Charts section. */
  readonly charts?: readonly { readonly id: string; readonly title: string; readonly file: string }[];
  /** The Order journeys section (when the document has traces); default true. The HTML page draws its own. */
  readonly journeys?: boolean;
}

/**
 * The report for a room of people: environment and config in one block, the charts (when
 * given), the tables, the generated observations, and each pattern's trade-offs beside
 * what this run measured. Renders on GitHub as it is.
 */
export function renderMarkdown(doc: ResultsDocument, options: MarkdownOptions = {}): string {
  const rows = summarize(doc);
  const { config: c, environment: e } = doc;
  const out: string[] = [];
  out.push('# pattern-bench report', '');
  if (doc.state === 'aborted') out.push('> **This run was aborted** before it finished; the numbers below cover only what completed.', '');
  out.push(
    '```',
    `machine   ${e.cpus} × ${e.cpuModel}, ${e.totalMemoryGiB} GiB, ${e.platform} ${e.arch}, Node.js ${e.node}`,
    isSweepOnly(doc)
      ? `load      ${loadLine(doc)}; ${c.warmupMs / 1000} s warm-up, then steps of ${(doc.sweep?.stepMs ?? 0) / 1000} s; seed ${c.seed}`
      : `load      ${loadLine(doc)}; ${c.warmupMs / 1000} s warm-up + ${c.durationMs / 1000} s measured; ${c.trials} trial(s); seed ${c.seed}`,
    ...(c.readShare ? [`reads     ${Math.round(c.readShare * 100)}% of the measured operations read a random ordering customer's orders`] : []),
    `orders    ${Math.round(c.generator.outOfStockShare * 100)}% ask for a scarce SKU, ${Math.round(c.generator.declineShare * 100)}% from customers who cannot pay`,
    `patterns  ${c.patterns.join(', ')}`,
    `scenarios ${c.scenarios.join(', ')}`,
    `placement ${whereName(c.placement, c.topology)}: ${whereDescription(c.placement, c.topology)}`,
    `broker    ${c.broker}; event store ${c.eventStore}`,
    `run       ${doc.startedAt} → ${doc.finishedAt} (${doc.tool.name} ${doc.tool.version}, results schema ${doc.schemaVersion})`,
    '```',
    '',
  );
  const charts = options.charts ?? [];
  // Brackets in a title would end the image's alt text early.
  if (charts.length > 0) out.push('## Charts', '', ...charts.flatMap((chart) => [`![${chart.title.replace(/[[\]]/g, '\\$&')}](${chart.file})`, '']));
  if (isSweepOnly(doc)) out.push(renderSweepMarkdown(doc));
  else out.push(...runSections(doc, rows));
  if (doc.traces && options.journeys !== false) out.push(...tracesMarkdown(doc.traces));

  const cards = doc.patterns ?? [];
  const resilient = cards.filter((p) => p.resilient).map((p) => p.id);
  const own = cards.filter((p) => p.ownPolicy && p.ownPolicy.length > 0);
  if (resilient.length > 0 || own.length > 0) {
    const policy = RESILIENCE_POLICIES[c.resilience];
    out.push('## Resilience policies', '');
    if (resilient.length > 0) {
      out.push(
        `\`--resilience ${policy.name}\` wraps the synchronous hops of ${resilient.join(', ')} (cockatiel; retries reuse the orderId, so no retry double-charges):`,
        '',
        ...describePolicy(policy).map((line) => `- ${line}`),
        '',
      );
    }
    for (const p of own) out.push(`${p.id} has a retry policy of its own; under \`--resilience ${policy.name}\`:`, '', ...(p.ownPolicy ?? []).map((line) => `- ${line}`), '');
  }

  if (!isSweepOnly(doc)) out.push('## Definitions', '', ...definitionsMarkdown(), '');

  if (cards.length > 0) out.push('## The patterns', '');
  for (const pattern of cards) {
    const id = pattern.id;
    out.push(`### ${pattern.title} (\`${pattern.id}\`)`, '', pattern.summary, '');
    if (pattern.optIn) out.push(`*${pattern.optIn}*`, '');
    if (pattern.readPath) out.push(`*Read path:* ${pattern.readPath}`, '');
    const measured = rows.filter((r) => r.pattern === id);
    const curve = doc.sweep?.curves.find((x) => x.pattern === id);
    if (curve) {
      const knee = kneeStep(curve);
      out.push(
        knee
          ? `*Measured (sweep):* knee at ${fmtInt(curve.knee)} orders/s, p99 ${percentileText(knee.latencyMs, 99)} ms there; invariants ${invariantVerdict(curve.invariants)}.`
          : `*Measured (sweep):* no step within the SLO; invariants ${invariantVerdict(curve.invariants)}.`,
        '',
      );
    }
    for (const r of measured) {
      const t = r.transport;
      out.push(
        `*Measured (${r.scenario}):* ${fmtInt(r.achieved?.median)} orders/s, p50 ${percentileText(r.latencyMs, 50)} ms, p99 ${percentileText(r.latencyMs, 99)} ms` +
          (t ? `; ${t.protocol}, ${t.encoding} encoding${t.broker ? `, broker ${t.broker}` : ''}; placement ${t.placement}` : '') +
          `; invariants ${invariantVerdict(r.invariants)}.`,
        '',
      );
    }
    const notes = measured[0]?.transport?.notes ?? [];
    if (notes.length > 0) out.push(`*Where this pattern differs:* ${notes.join('; ')}.`, '');
    out.push(
      '| pros | cons |',
      '| --- | --- |',
      ...zip(pattern.tradeOffs.pros, pattern.tradeOffs.cons).map(([p, k]) => `| ${p} | ${k} |`),
      '',
      `**When to use:** ${pattern.tradeOffs.whenToUse}`,
      '',
    );
  }
  return out.join('\n');
}

/** A run's sections, from the capacity phase to the resilience policies. */
function runSections(doc: ResultsDocument, rows: readonly SummaryRow[]): string[] {
  const out: string[] = [];
  const capacity = capacityMarkdown(doc);
  if (capacity.length > 0) out.push('## Capacity', '', ...capacity);
  out.push(`## ${mainTableTitle(doc)}`, '', table(PERFORMANCE_COLUMNS, rows), '');
  if (hasReads(rows)) {
    const said = readObservations(rows);
    out.push("## Reads of a customer's orders", '', readShareLine(doc.config.readShare) ?? '', '', table(READ_COLUMNS, rows), '', ...(said.length > 0 ? [...said.map((o) => `- ${o}`), ''] : []));
  }
  out.push('## Outcomes, invariants and cost', '', table(OUTCOME_COLUMNS, rows), '');
  const asyncRows = rows.filter(hasAsyncFigures);
  if (asyncRows.length > 0) out.push('## Queues, event logs and sagas', '', table(ASYNC_COLUMNS, asyncRows), '');
  const faulted = rows.filter((r) => r.failure);
  if (faulted.length > 0) {
    out.push('## Failure behaviour', '', table(FAILURE_COLUMNS, faulted), '');
    for (const scenario of [...new Set(faulted.map((r) => r.scenario))]) {
      const s = doc.scenarios?.find((x) => x.id === scenario);
      const played = faulted.find((r) => r.scenario === scenario)?.failure?.played ?? [];
      out.push(`**${s?.title ?? scenario}** — ${s?.description ?? ''}${played.length > 0 ? ` Played (first pattern): ${played.join('; ')}.` : ''}`, '');
    }
  }
  const warning = coordinatedOmissionWarning(doc);
  const notes = [...saturationNotes(rows), ...latenessNotes(rows), ...(warning ? [warning] : [])];
  if (notes.length > 0) out.push(...notes.flatMap((n) => [`> ${n}`, '']));

  const observations = observe(rows, capacities(doc.capacity));
  if (observations.length > 0) out.push('## Observations', '', ...observations.map((o) => `- ${o}`), '');
  const reasons = why(doc);
  if (reasons.length > 0) out.push('## Why, not only what', '', ...reasons.map((o) => `- ${o}`), '');

  const thresholds = thresholdMarkdown(doc.thresholds ?? []);
  if (thresholds) out.push(thresholds);

  const errored = rows.flatMap((r) => r.errors.map((err) => `- **${r.pattern}** / ${r.scenario}, trial ${err.trial}: \`${err.code}\` ${err.message}`));
  if (errored.length > 0) out.push('## Errored runs', '', ...errored, '');
  out.push(...violationsMarkdown(doc));
  return out;
}

/**
 * Order journeys: where they were traced, one ```mermaid sequenceDiagram per pattern
 * (GitHub draws it), then what tracing cost in the measured runs and where the spans went.
 */
function tracesMarkdown(traces: TracesView): string[] {
  const out = ['## Order journeys', ''];
  const note = journeysNote(traces);
  if (note) out.push(note, '');
  for (const d of journeyDiagrams(traces)) out.push(`### ${d.pattern}`, '', '```mermaid', d.source, '```', '');
  const rows = tracingCostRows(traces);
  if (rows.length > 0) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    const align = TRACING_COST_NUMERIC.map((n) => (n ? 'r' : 'l'));
    out.push('### Tracing cost', '', 'Per measured run with `--trace-sample`: its traced orders against the untraced orders of the same window.', '', markdownTable([[...TRACING_COST_HEADER], ...rows.map((r) => r.map(esc))], { align }), '');
  }
  const otlp = otlpLine(traces);
  if (otlp) out.push(otlp, '');
  return out;
}

function zip(a: readonly string[], b: readonly string[]): [string, string][] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => [a[i] ?? '', b[i] ?? '']);
}
