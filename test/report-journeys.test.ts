/** The traced order journeys in report.md and report.html: a sequence diagram per pattern, the tracing cost, the OTLP line. */
import { describe, expect, it } from 'vitest';
import type { TracedJourney } from '../src/bench/results.js';
import { escapeHtml, renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { MERMAID_INIT, mermaidBundle } from '../src/report/mermaid-bundle.js';
import { completedRun, resultsDoc } from './support/results.js';
import { QUEUE_COMPENSATED, QUEUE_CONFIRMED, REST_COMPENSATED, REST_CONFIRMED, traceOverhead, tracedJourney, tracesSection, withTraces, type Hop } from './support/traces.js';

const base = resultsDoc([completedRun(), completedRun({ pattern: 'queue' })]);

/** The bodies of the ```mermaid fences of a markdown text. */
function mermaidBlocks(md: string): string[] {
  return [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
}

/** The page with the text of its scripts (mermaid's bundle and start-up) left out, the tags kept. */
const outsideScripts = (html: string) => html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');

const participants = (diagram: string) => [...diagram.matchAll(/^ {2}participant (\S+)$/gm)].map((m) => m[1]);
const messages = (diagram: string) => [...diagram.matchAll(/^ {2}(\S+)->>(\S+): (.*)$/gm)].map((m) => `${m[1]}->>${m[2]}: ${m[3]}`);

/** What the diagram should say for these hops, in order: sender, receiver, operation (and message), ms from the start. */
function expectedMessages(...journeys: (readonly Hop[])[]): string[] {
  return journeys.flatMap((hops) => hops.map(([from, to, op, msg], i) => `${from}->>${to}: ${msg ? `${op} ${msg}` : op} (+${((i + 1) * 0.5).toFixed(1)} ms)`));
}

/** The cells of the row of the Tracing cost table that starts with `first`. */
function row(md: string, first: string): string[] {
  const section = md.slice(md.indexOf('### Tracing cost'));
  const line = section.split('\n').find((l) => l.startsWith(`| ${first} `));
  expect(line, first).toBeDefined();
  return (line as string).split('|').slice(1, -1).map((c) => c.trim());
}

describe('report.md: Order journeys', () => {
  const md = renderMarkdown(withTraces(base));

  it('has one mermaid sequenceDiagram per pattern with journeys, in the journeys\' order', () => {
    const blocks = mermaidBlocks(md);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) expect(b.split('\n')[0]).toBe('sequenceDiagram');
    expect(md.indexOf('### rest\n\n```mermaid')).toBeLessThan(md.indexOf('### queue\n\n```mermaid'));
  });

  it('names as participants exactly the services in that pattern\'s spans, in order of first appearance', () => {
    const [rest, queue] = mermaidBlocks(md);
    expect(participants(rest ?? '')).toEqual(['client', 'orders', 'payments', 'inventory', 'notifications']);
    // The queue's journeys never reach notifications, and the broker is a participant of its own.
    expect(participants(queue ?? '')).toEqual(['client', 'broker', 'orders', 'payments', 'inventory']);
  });

  it('draws both orders in one diagram, each after a note, every span a message in span order', () => {
    const [rest, queue] = mermaidBlocks(md);
    expect(messages(rest ?? '')).toEqual(expectedMessages(REST_CONFIRMED, REST_COMPENSATED));
    expect(messages(queue ?? '')).toEqual(expectedMessages(QUEUE_CONFIRMED, QUEUE_COMPENSATED));
    const notes = [...(rest ?? '').matchAll(/^ {2}Note over client: (.*)$/gm)].map((m) => m[1]);
    expect(notes).toEqual(['confirmed · rest-confirmed-order → CONFIRMED', 'out-of-stock · rest-out-of-stock-order → CANCELLED (out_of_stock)']);
    expect((rest ?? '').indexOf('POST /notifications')).toBeLessThan((rest ?? '').indexOf('Note over client: out-of-stock'));
  });

  it('says the placement the orders ran under and that they were traced before the measured phases', () => {
    const perService = tracesSection({ journeys: [tracedJourney('rest', 'confirmed', REST_CONFIRMED, { placement: 'per-service' })] });
    const line = 'Traced on the system under test before the measured phases (their latency is in no table), under placement per-service.';
    expect(renderMarkdown(withTraces(base, perService)).split('\n')).toContain(line);
    expect(md.split('\n')).toContain(line.replace('per-service', 'shared'));
  });

  it('keeps what Mermaid or the fence would read as syntax out of a message', () => {
    const odd: TracedJourney = tracedJourney('rest', 'confirmed', [['client', 'orders', 'POST /a;b#c', '```x']]);
    const [diagram] = mermaidBlocks(renderMarkdown(withTraces(base, tracesSection({ journeys: [odd] }))));
    expect(messages(diagram ?? '')).toEqual(['client->>orders: POST /a b c    x (+0.5 ms)']);
  });

  it('has no section, no diagram and no tracing table when the document has no traces', () => {
    const plain = renderMarkdown(base);
    expect(plain).not.toContain('## Order journeys');
    expect(plain).not.toContain('```mermaid');
    expect(plain).not.toContain('Tracing cost');
  });
});

describe('report.md: Tracing cost', () => {
  const overhead = [
    traceOverhead(),
    traceOverhead({ pattern: 'queue', trial: 2, tracedOrders: 1234, spans: 15_000, traced: { p50: 4.5, p99: 20 }, untraced: { p50: 5, p99: 25 } }),
    traceOverhead({ pattern: 'grpc', traced: null }),
  ];
  const md = renderMarkdown(withTraces(base, tracesSection({ sample: 0.1, overhead })));

  it('shows each run\'s sampled share, traced orders, spans, p50 and p99 traced / untraced and the p50 change', () => {
    expect(row(md, 'pattern')).toEqual(['pattern', 'scenario', 'trial', 'sampled', 'traced orders', 'spans', 'p50 ms traced / untraced', 'p99 ms traced / untraced', 'p50 change']);
    expect(row(md, 'rest')).toEqual(['rest', 'baseline', '1', '10%', '300', '1,500', '2.20 / 2.00', '9.00 / 8.00', '+10.0%']);
    expect(row(md, 'queue')).toEqual(['queue', 'baseline', '2', '10%', '1,234', '15,000', '4.50 / 5.00', '20.0 / 25.0', '-10.0%']);
  });

  it('shows a dash where a side had no order', () => {
    expect(row(md, 'grpc').slice(6)).toEqual(['— / 2.00', '— / 8.00', '—']);
  });

  it('keeps two decimals of a sampled share under 1%', () => {
    const small = renderMarkdown(withTraces(base, tracesSection({ sample: 0.001, overhead: [traceOverhead()] })));
    expect(row(small, 'rest')[3]).toBe('0.10%');
  });

  it('has no table when no run sampled', () => {
    expect(renderMarkdown(withTraces(base))).not.toContain('### Tracing cost');
  });
});

describe('report.md: OTLP', () => {
  const lines = (otlp: Parameters<typeof tracesSection>[0]) => renderMarkdown(withTraces(base, tracesSection(otlp))).split('\n');

  it('says where the spans went and how many were exported', () => {
    expect(lines({ otlp: { url: 'http://collector:4318/v1/traces', exported: 12_345, failed: 0 } })).toContain('Spans sent over OTLP to http://collector:4318/v1/traces: 12,345 exported.');
  });

  it('says how many failed and why when delivery failed', () => {
    expect(lines({ otlp: { url: 'http://collector:4318/v1/traces', exported: 10, failed: 2, error: 'connect ECONNREFUSED' } })).toContain(
      'Spans sent over OTLP to http://collector:4318/v1/traces: 10 exported, 2 failed; delivery failed: connect ECONNREFUSED.',
    );
  });

  it('has no OTLP line without --otlp', () => {
    expect(lines({}).some((l) => l.includes('OTLP'))).toBe(false);
  });
});

describe('report.html: Order journeys', () => {
  const html = renderHtml(withTraces(base));
  const pres = [...html.matchAll(/<pre class="mermaid">([\s\S]*?)<\/pre>/g)].map((m) => m[1] as string);

  it('puts each diagram, HTML-escaped, in a <pre class="mermaid"> of its own, the same source as report.md', () => {
    expect(pres).toEqual(mermaidBlocks(renderMarkdown(withTraces(base))).map(escapeHtml));
    expect(pres[0]).toContain('client-&gt;&gt;orders: POST /orders (+0.5 ms)');
  });

  it('escapes what a span could smuggle into the page', () => {
    const odd = tracedJourney('rest', 'confirmed', [['client', 'orders', '<img src=x onerror=alert(1)>']]);
    const page = outsideScripts(renderHtml(withTraces(base, tracesSection({ journeys: [odd] }))));
    expect(page).toContain('client-&gt;&gt;orders: &lt;img src=x onerror=alert(1)&gt; (+0.5 ms)');
    expect(page.includes('<img')).toBe(false);
  });

  it('inlines the mermaid bundle and its start-up, once, when there are journeys', () => {
    expect(html.split(`<script>${mermaidBundle()}</script>`)).toHaveLength(2);
    expect(html).toContain(`<script>${MERMAID_INIT}</script>`);
    expect(MERMAID_INIT).toContain("securityLevel:'strict'");
    // The full detail does not draw them a second time.
    expect(html).not.toContain('language-mermaid');
  });

  it('has no script at all without journeys, with traces absent or holding only the tracing cost', () => {
    expect(renderHtml(base)).not.toContain('<script');
    const costOnly = renderHtml(withTraces(base, tracesSection({ journeys: [], sample: 0.1, overhead: [traceOverhead()] })));
    expect(costOnly).not.toContain('<script');
    expect(costOnly).not.toContain('<pre class="mermaid">');
    expect(costOnly).toContain('<td class="num">+10.0%</td>');
  });

  it('fetches nothing: no http(s) src or href and no CSS import in the page, no chunk loading in the bundle', () => {
    const page = outsideScripts(html);
    // The scripts are inline: no <script src>.
    expect(page.match(/<script\b[^>]*>/g) ?? []).toEqual(['<script>', '<script>']);
    expect(page.match(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\/[^"'\s>]*/gi) ?? []).toEqual([]);
    expect(page.match(/@import[^;]*|url\(\s*["']?(https?:)?\/\/[^)]*/gi) ?? []).toEqual([]);
    // mermaid.min.js is one IIFE: it would load a diagram from elsewhere only through import() or importScripts().
    expect(mermaidBundle().match(/\bimport\(|importScripts\(/g) ?? []).toEqual([]);
  });
});
