import { Marked } from 'marked';
import type { ResultsDocument } from '../bench/results.js';
import { whereDescription, whereName } from '../placement/types.js';
import type { Chart } from './charts/index.js';
import { hasReads, percentileText, READ_COLUMNS, readShareLine, recoveryText } from './columns.js';
import { fmtInt, fmtMs, fmtNum, fmtPercent } from './format.js';
import { capacityBroken, capacityCaption, capacityRows, loadLine } from './load.js';
import { renderMarkdown } from './markdown.js';
import { readObservations } from './reads.js';
import { MERMAID_INIT, mermaidBundle } from './mermaid-bundle.js';
import { invariantVerdict, summarize, type SummaryRow } from './summary.js';
import { journeyDiagrams, journeysNote, otlpLine, TRACING_COST_HEADER, TRACING_COST_NUMERIC, tracingCostRows, type TracesView } from './traces.js';
import { verdicts } from './verdicts.js';
import { linkBroken, violationLinks, violationsHtml } from './violations.js';
import { why } from './why.js';

/** `<`, `>`, `&` and both quotes as entities: every piece of text from the document goes through this. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const esc = escapeHtml;

/**
 * For a projector at 1280×720, offline: the system font stack, nothing loaded. Neither the
 * page nor any box in it scrolls sideways (the compact tables fit); only the full detail,
 * once opened, lets its wide tables and code scroll inside their own boxes.
 */
const STYLE = `*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;max-width:1200px;margin:0 auto;padding:1.25rem 1.5rem 3rem;color:#1f2328;background:#fff;overflow-wrap:anywhere}
h1{font-size:1.9rem;margin:.2rem 0 .4rem}h2{font-size:1.4rem;margin:2rem 0 .6rem;border-bottom:2px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1.15rem;margin:.2rem 0 .4rem}h4{margin:.4rem 0 .2rem;font-size:1rem}
.meta{color:#57606a;margin:.1rem 0;font-size:.95rem}.aborted{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem;border-radius:6px}
ul.verdicts{list-style:none;padding:0;margin:0}ul.verdicts li{padding:.45rem .7rem;margin:.3rem 0;background:#f6f8fa;border-left:4px solid #0969da;border-radius:4px}
ul.why li{margin:.3rem 0}
.charts{display:grid;grid-template-columns:1fr;gap:1rem}
figure.chart{margin:0;padding:.6rem;border:1px solid #d0d7de;border-radius:6px;min-width:0;overflow:hidden}figure.chart figcaption{font-weight:600;margin-bottom:.3rem}
figure.chart svg{display:block;max-width:100%;height:auto}
.table{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:3px 7px;vertical-align:top}th{background:#f6f8fa;text-align:left}
table.compact{width:100%}table.compact td.num,table.compact th.num{text-align:right;white-space:nowrap}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
details{margin:1.5rem 0;border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem}summary{cursor:pointer;font-weight:600;font-size:1.1rem}
.full{max-width:100%;overflow-x:auto}.full table{display:block;max-width:100%;overflow-x:auto}.full pre{overflow-x:auto;background:#f6f8fa;padding:.6rem;font-size:.8rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1rem}
article.card{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1rem;min-width:0}article.card ul{margin:.2rem 0;padding-left:1.2rem}
.pc{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}
figure.journey{margin:0 0 1rem;padding:.6rem;border:1px solid #d0d7de;border-radius:6px;min-width:0;overflow-x:auto}figure.journey figcaption{font-weight:600;margin-bottom:.3rem}
pre.mermaid{margin:0;background:#fff;font-size:.8rem}pre.mermaid svg{display:block;margin:0 auto}code{font-size:.9em;background:#f6f8fa;padding:0 .25em;border-radius:3px}`;

/** One compact table column: a header and a cell, already text; numbers align right. */
interface CompactColumn {
  readonly header: string;
  readonly num: boolean;
  cell(row: SummaryRow): string;
}

const cpuText = (r: SummaryRow) => fmtNum(r.systemCpuMicrosPerOrder ?? r.cpuMicrosPerOrder);

/** The key figures only: eight columns that fit 1280 px wide at projector size. */
const PERFORMANCE: readonly CompactColumn[] = [
  { header: 'pattern', num: false, cell: (r) => r.pattern },
  { header: 'orders/s', num: true, cell: (r) => fmtInt(r.achieved?.median) },
  { header: 'p50 ms', num: true, cell: (r) => percentileText(r.latencyMs, 50) },
  { header: 'p99 ms', num: true, cell: (r) => percentileText(r.latencyMs, 99) },
  { header: 'accept p50 ms', num: true, cell: (r) => (r.acceptLatencyMs ? fmtMs(r.acceptLatencyMs.p50) : '—') },
  { header: 'CPU µs/order', num: true, cell: cpuText },
  { header: 'bytes/order', num: true, cell: (r) => fmtInt(r.bytesPerOrder) },
  { header: 'msgs/order', num: true, cell: (r) => fmtNum(r.messagesPerOrder) },
  { header: 'invariants', num: false, cell: (r) => (r.errors.length > 0 && !r.invariants ? `ERRORED: ${r.errors[0]?.code}` : invariantVerdict(r.invariants)) },
];

/** The mixed workload's reads (`--read-share`), when some row has them. */
const READS: readonly CompactColumn[] = READ_COLUMNS.filter((c) => c.header !== 'scenario').map((c) => ({ header: c.header, num: c.align === 'right', cell: (r) => c.cell(r) }));

const FAILURE: readonly CompactColumn[] = [
  { header: 'pattern', num: false, cell: (r) => r.pattern },
  { header: 'success', num: true, cell: (r) => fmtPercent(r.failure?.successRate) },
  { header: 'p99 before → during ms', num: true, cell: (r) => (r.failure ? `${fmtMs(r.failure.p99BeforeMs)} → ${fmtMs(r.failure.p99DuringMs)}` : '—') },
  { header: 'recovered in', num: true, cell: recoveryText },
  { header: 'lost / stuck', num: true, cell: (r) => (r.invariants ? `${fmtInt(r.invariants.lost)} / ${fmtInt(r.invariants.stuck)}` : '—') },
  { header: 'backlog peak / drain ms', num: true, cell: (r) => (r.backlog ? `${fmtInt(r.backlog.peakDepth)} / ${fmtMs(r.backlog.drainMs)}` : '—') },
  { header: 'invariants', num: false, cell: (r) => (r.errors.length > 0 && !r.invariants ? `ERRORED: ${r.errors[0]?.code}` : invariantVerdict(r.invariants)) },
];

function compactTable(caption: string, columns: readonly CompactColumn[], rows: readonly SummaryRow[], links: ReadonlyMap<string, string> = new Map()): string {
  const cls = (c: CompactColumn) => (c.num ? ' class="num"' : '');
  const head = columns.map((c) => `<th${cls(c)}>${esc(c.header)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td${cls(c)}>${linkBroken(esc(c.cell(r)), r, links)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table"><table class="compact"><caption>${esc(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function capacityTable(doc: ResultsDocument): string {
  const caption = capacityCaption(doc);
  if (caption === null) return '';
  const rows = capacityRows(doc).map(
    (r) =>
      `<tr><td>${esc(r.pattern)}</td><td class="num">${esc(r.capacity ? fmtInt(r.capacity.median) : r.errors[0] ? `errored: ${r.errors[0].code}` : '—')}</td>` +
      `<td class="num">${esc(`${r.p99AtLeast && r.p99Ms !== null ? '≥ ' : ''}${fmtMs(r.p99Ms)}`)}</td>` +
      `<td class="num">${esc(r.busiestThread ? `${r.busiestThread.name} ${fmtPercent(r.busiestThread.eventLoopUtilization)}` : '—')}</td></tr>`,
  );
  const broken = capacityBroken(capacityRows(doc));
  return (
    `<div class="table"><table class="compact"><caption>${esc(caption)}</caption><thead><tr><th>pattern</th><th class="num">capacity orders/s</th>` +
    `<th class="num">p99 ms at capacity</th><th class="num">busiest thread</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>` +
    (broken.length > 0 ? `<ul class="reads">${broken.map((b) => `<li><strong>${esc(b)}</strong></li>`).join('')}</ul>` : '')
  );
}

/** The compact tables: capacity, then per scenario the key figures, and for fault scenarios how each pattern fared. */
function tables(doc: ResultsDocument, rows: readonly SummaryRow[]): string {
  const out = [capacityTable(doc)];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const group = rows.filter((r) => r.scenario === scenario);
    const title = doc.scenarios?.find((s) => s.id === scenario)?.title ?? scenario;
    out.push(compactTable(`${title}: throughput, latency and cost`, PERFORMANCE, group, violationLinks(doc)));
    if (hasReads(group)) {
      const said = readObservations(group);
      out.push(compactTable(`${title}: reads of a customer's orders`, READS, group), said.length > 0 ? `<ul class="reads">${said.map((o) => `<li>${esc(o)}</li>`).join('')}</ul>` : '');
    }
    const faulted = group.filter((r) => r.failure);
    if (faulted.length > 0) out.push(compactTable(`${title}: failure behaviour`, FAILURE, faulted, violationLinks(doc)));
  }
  return out.filter((s) => s !== '').join('\n');
}

/**
 * The markdown report as HTML for the collapsed full detail. Raw HTML in it (a pattern
 * name, say) is shown as text, links as their text and address, images as their alt text:
 * nothing on the page may load or point anywhere.
 */
const detail = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: ({ text }) => esc(text),
    link({ href, tokens }) {
      const text = this.parser.parseInline(tokens);
      return text === esc(href) ? text : `${text} (${esc(href)})`;
    },
    image: ({ text }) => esc(text),
  },
});

/**
 * Order journeys: the note, a sequence diagram per pattern (Mermaid source in
 * `<pre class="mermaid">`, drawn by the inlined bundle; the source stays readable without
 * it), the tracing-cost table and the OTLP line. Empty without traces.
 */
function journeysSection(traces: TracesView | undefined): string {
  if (!traces) return '';
  const note = journeysNote(traces);
  const figures = journeyDiagrams(traces).map(
    (d) => `<figure class="journey" id="journey-${esc(d.pattern)}"><figcaption>${esc(d.pattern)}</figcaption><pre class="mermaid">${esc(d.source)}</pre></figure>`,
  );
  const otlp = otlpLine(traces);
  const parts = [note ? `<p class="meta">${esc(note)}</p>` : '', ...figures, tracingCostTable(traces), otlp ? `<p>${esc(otlp)}</p>` : ''];
  return `<section id="journeys"><h2>Order journeys</h2>\n${parts.filter((p) => p !== '').join('\n')}\n</section>`;
}

function tracingCostTable(traces: TracesView): string {
  const rows = tracingCostRows(traces);
  if (rows.length === 0) return '';
  const cls = (i: number) => (TRACING_COST_NUMERIC[i] ? ' class="num"' : '');
  const head = TRACING_COST_HEADER.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${cls(i)}>${esc(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table"><table class="compact"><caption>Tracing cost: traced against untraced orders of the same window</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** Mermaid's bundle and its start-up, only when there is a diagram to draw. */
function mermaidScripts(traces: TracesView | undefined): string {
  if (!traces || traces.journeys.length === 0) return '';
  return `<script>${mermaidBundle()}</script>\n<script>${MERMAID_INIT}</script>`;
}

function patternCards(doc: ResultsDocument): string {
  const cards = doc.patterns ?? [];
  if (cards.length === 0) return '';
  const list = (items: readonly string[]) => `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
  const html = cards.map(
    (p) =>
      `<article class="card"><h3>${esc(p.title)} <code>${esc(p.id)}</code></h3><p>${esc(p.summary)}</p>` +
      (p.optIn ? `<p><em>${esc(p.optIn)}</em></p>` : '') +
      (p.readPath ? `<p><strong>Read path:</strong> ${esc(p.readPath)}</p>` : '') +
      `<div class="pc"><div><h4>Pros</h4>${list(p.tradeOffs.pros)}</div><div><h4>Cons</h4>${list(p.tradeOffs.cons)}</div></div>` +
      `<p><strong>When to use:</strong> ${esc(p.tradeOffs.whenToUse)}</p></article>`,
  );
  return `<section id="patterns"><h2>The patterns</h2><div class="cards">\n${html.join('\n')}\n</div></section>`;
}

/**
 * The report for a projector as one self-contained HTML page: header, a verdict per
 * pattern, why the figures differ, the charts (inline SVG, as given), compact tables, the
 * traced order journeys (when the document has traces), the full markdown report
 * collapsed, and the pattern cards. Nothing is loaded — no stylesheet, font, image or
 * script file: it renders offline; the one script, mermaid's bundle inlined to draw the
 * journeys, is there only when there are journeys. Every text from the document is
 * escaped; `charts` are trusted SVG from renderCharts().
 */
export function renderHtml(doc: ResultsDocument, charts: readonly Chart[] = []): string {
  const rows = summarize(doc);
  const c = doc.config;
  const e = doc.environment;
  const title = `pattern-bench: ${c.patterns.length} patterns, ${c.scenarios.join(' + ')}`;
  const header = [
    `<h1>${esc(title)}</h1>`,
    doc.state === 'aborted' ? '<p class="aborted"><strong>This run was aborted</strong> before it finished; the figures cover only what completed.</p>' : '',
    `<p class="meta">Load: ${esc(loadLine(doc))}</p>`,
    c.readShare ? `<p class="meta">${esc(readShareLine(c.readShare) ?? '')}</p>` : '',
    `<p class="meta">Placement ${esc(whereName(c.placement, c.topology))}: ${esc(whereDescription(c.placement, c.topology))}</p>`,
    `<p class="meta">${esc(`${e.cpus} × ${e.cpuModel}, ${e.totalMemoryGiB} GiB, ${e.platform} ${e.arch}, Node.js ${e.node}; ${doc.startedAt}; seed ${c.seed}`)}</p>`,
  ];
  const verdictItems = verdicts(doc).map((v) => `<li><strong>${esc(v.pattern)}</strong>${esc(v.sentence.slice(v.pattern.length))}</li>`);
  const reasons = why(doc);
  const sections = [
    `<header>\n${header.filter((s) => s !== '').join('\n')}\n</header>`,
    verdictItems.length > 0 ? `<section id="verdicts"><h2>Verdicts</h2><ul class="verdicts">\n${verdictItems.join('\n')}\n</ul></section>` : '',
    reasons.length > 0 ? `<section id="why"><h2>Why, not only what</h2><ul class="why">\n${reasons.map((s) => `<li>${esc(s)}</li>`).join('\n')}\n</ul></section>` : '',
    charts.length > 0
      ? `<section id="charts"><h2>Charts</h2><div class="charts">\n${charts
          .map((ch) => `<figure class="chart" id="chart-${esc(ch.id)}"><figcaption>${esc(ch.title)}</figcaption>${ch.svg}</figure>`)
          .join('\n')}\n</div></section>`
      : '',
    rows.length > 0 || doc.capacity ? `<section id="tables"><h2>Key figures</h2>\n${tables(doc, rows)}\n</section>` : '',
    journeysSection(doc.traces),
    violationsHtml(doc, esc),
    `<details id="full"><summary>Full detail: every table, observation and definition</summary><div class="full">\n${detail.parse(renderMarkdown(doc, { journeys: false })) as string}\n</div></details>`,
    patternCards(doc),
    mermaidScripts(doc.traces),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(`${title} (${doc.startedAt})`)}</title><style>${STYLE}</style></head>
<body>
${sections.filter((s) => s !== '').join('\n')}
</body></html>
`;
}
