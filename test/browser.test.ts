/**
 * The projector page in a real browser: Debian's chromium (or PB_CHROMIUM) opens a
 * report.html of seven patterns × baseline + outage, with traced journeys of three, at
 * 1280×720, every request off the file blocked, and every chart and every sequence diagram
 * draws, nothing errors, nothing is fetched, nothing scrolls sideways (neither the page nor,
 * until the full detail is opened, any box in it); mermaid's own parser
 * accepts what `trace --format mermaid` prints. Without chromium the test is skipped —
 * unless PB_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument, TracedJourney } from '../src/bench/results.js';
import type { TimelinePoint } from '../src/bench/loadgen.js';
import type { TransportInfo } from '../src/patterns/types.js';
import { renderCharts } from '../src/report/charts/index.js';
import { renderHtml } from '../src/report/html.js';
import { renderJourneyMermaid, servicesOf } from '../src/report/journey.js';
import { capacity, capacityRun, equalLoad, runAt } from './support/figures.js';
import { completedRun, failure, latency, resultsDoc } from './support/results.js';
import { REQUIRE_SERVICES } from './support/services.js';
import { tracedJourney, tracesSection } from './support/traces.js';

const CHROMIUM = process.env.PB_CHROMIUM || '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && REQUIRE_SERVICES) {
  throw new Error(`PB_REQUIRE_SERVICES=1 but there is no chromium at ${CHROMIUM} (set PB_CHROMIUM or apt-get install chromium): the browser test must not be skipped`);
}

const VIEWPORT = { width: 1280, height: 720 } as const;
const RATE = 589;

/** Seven patterns as a run on a small machine might measure them. */
const PROFILES: readonly {
  pattern: string;
  transport: TransportInfo;
  capacity: number;
  p50: number;
  p99: number;
  cpu: number;
  bytes: number | null;
  messages: number | null;
  busy: number;
  accept?: number;
  backlog?: number;
  /** Whether it queues through the outage (no failures) rather than failing orders. */
  buffers: boolean;
}[] = [
  { pattern: 'direct', transport: { protocol: 'function calls', encoding: 'none', broker: null, placement: 'shared' }, capacity: 21_000, p50: 0.12, p99: 0.9, cpu: 95, bytes: null, messages: null, busy: 0.05, buffers: false },
  { pattern: 'rest', transport: { protocol: 'HTTP/1.1', encoding: 'JSON', broker: null, placement: 'shared' }, capacity: 2400, p50: 2.1, p99: 7.4, cpu: 620, bytes: 3100, messages: 8, busy: 0.31, buffers: false },
  { pattern: 'grpc', transport: { protocol: 'HTTP/2 (gRPC)', encoding: 'protobuf', broker: null, placement: 'shared' }, capacity: 1900, p50: 2.6, p99: 9.8, cpu: 2292, bytes: 524, messages: 7.8, busy: 0.44, buffers: false },
  { pattern: 'queue', transport: { protocol: 'AMQP 0-9-1', encoding: 'JSON', broker: 'embedded', placement: 'shared' }, capacity: 4600, p50: 3.4, p99: 8, cpu: 810, bytes: 2900, messages: 14, busy: 0.36, accept: 0.35, backlog: 10, buffers: true },
  { pattern: 'event-sourcing', transport: { protocol: 'HTTP/1.1 commands and queries + embedded event store over TCP', encoding: 'JSON', broker: null, placement: 'shared', wireExcludes: 'PostgreSQL' }, capacity: 1300, p50: 4.9, p99: 16, cpu: 1400, bytes: 4200, messages: 11, busy: 0.52, accept: 1.2, buffers: true },
  { pattern: 'saga-choreography', transport: { protocol: 'AMQP 0-9-1', encoding: 'JSON', broker: 'embedded', placement: 'shared' }, capacity: 2100, p50: 5.5, p99: 21, cpu: 1100, bytes: 3800, messages: 18, busy: 0.41, accept: 0.5, backlog: 40, buffers: true },
  { pattern: 'saga-orchestration', transport: { protocol: 'HTTP/2 (gRPC)', encoding: 'protobuf', broker: null, placement: 'shared' }, capacity: 841, p50: 7.1, p99: 33, cpu: 2600, bytes: 1900, messages: 16, busy: 0.71, buffers: false },
];

const BUCKET_MS = 100;
const WINDOW_MS = 3000;
const FAULT = { fromMs: 1000, toMs: 2000 } as const;

/** 30 slices at RATE orders/s: sync patterns fail orders in the fault window, buffering ones pause and catch up after it. */
function timeline(p: (typeof PROFILES)[number], faulted: boolean): TimelinePoint[] {
  const perSlice = (RATE * BUCKET_MS) / 1000;
  return Array.from({ length: WINDOW_MS / BUCKET_MS }, (_, i) => {
    const atMs = i * BUCKET_MS;
    const during = faulted && atMs >= FAULT.fromMs && atMs < FAULT.toMs;
    const catchUp = faulted && p.buffers && atMs >= FAULT.toMs && atMs < FAULT.toMs + 300;
    const wobble = 1 + 0.05 * Math.sin(i);
    if (during) return { atMs, completed: p.buffers ? 0 : Math.round(perSlice * 0.2), failed: p.buffers ? 0 : Math.round(perSlice * 0.8), p99Ms: p.buffers ? null : p.p99 * 40 };
    return { atMs, completed: Math.round(perSlice * wobble * (catchUp ? 4 : 1)), failed: 0, p99Ms: p.p99 * wobble * (catchUp ? 30 : 1) };
  });
}

function run(p: (typeof PROFILES)[number], scenario: 'baseline' | 'outage'): CompletedRun {
  const base = completedRun();
  const faulted = scenario === 'outage';
  const lat = latency(p.p50, faulted ? p.p99 * 12 : p.p99, p.p99 * (faulted ? 60 : 3), Math.round(RATE * 3));
  const failed = faulted && !p.buffers ? Math.round(RATE * 0.8) : 0;
  return runAt(RATE, {
    pattern: p.pattern,
    scenario,
    transport: p.transport,
    latencyMs: lat,
    acceptLatencyMs: p.accept === undefined ? null : latency(p.accept, p.accept * 4),
    outcomes: { placed: RATE * 3, confirmed: Math.round(RATE * 3 * 0.8) - failed, cancelled: Math.round(RATE * 3 * 0.2), failed, timedOut: 0 },
    cost: {
      ...base.cost,
      system: { sharesGeneratorThread: false, cpuMicrosPerOrder: p.cpu, busiestThread: { name: 'system', eventLoopUtilization: p.busy } },
      bytesPerOrder: p.bytes,
      messagesPerOrder: p.messages,
    },
    backlog: p.backlog === undefined ? null : { peakDepth: faulted ? p.backlog * 60 : p.backlog, drainMs: faulted ? 240 : 9 },
    // The mixed workload's reads, with read-your-writes: the event log's read model shows some orders late.
    reads: {
      placed: RATE,
      completed: RATE,
      failed: 0,
      perSecond: RATE / 3,
      latencyMs: latency(p.p50 / 2, p.p99 / 2, p.p99, RATE),
      consistency: { checked: RATE * 2, stale: p.pattern === 'event-sourcing' ? 240 : 0, unresolved: 0, reReads: 0, readErrors: 0, timeToConsistencyMs: latency(0.001, p.pattern === 'event-sourcing' ? 12.5 : 0.001, 14, RATE * 2) },
    },
    timeline: timeline(p, faulted),
    timelineBucketMs: BUCKET_MS,
    durationMs: WINDOW_MS,
    failure: faulted
      ? failure(p.buffers ? { kind: 'never-dropped' } : { kind: 'recovered', ms: 400 }, {
          successRate: p.buffers ? 1 : 0.73,
          faultWindowMs: FAULT,
          segments: [
            { name: 'before', fromMs: 0, toMs: FAULT.fromMs, latency: latency(p.p50, p.p99), placed: RATE, failed: 0 },
            { name: 'during', fromMs: FAULT.fromMs, toMs: FAULT.toMs, latency: latency(p.p50 * 20, p.p99 * 40), placed: RATE, failed },
            { name: 'after', fromMs: FAULT.toMs, toMs: WINDOW_MS, latency: latency(p.p50, p.p99 * 2), placed: RATE, failed: 0 },
          ],
          errorsByKind: p.buffers ? {} : { 'payments:unavailable': failed },
          played: [{ atMs: FAULT.fromMs, what: 'payments down' }, { atMs: FAULT.toMs, what: 'payments up' }],
        })
      : null,
  });
}

/** rest's and the queue's journeys, and direct's: one client span and no message (its modules are function calls). */
const JOURNEYS: readonly TracedJourney[] = [
  ...tracesSection().journeys,
  tracedJourney('direct', 'confirmed', []),
  tracedJourney('direct', 'out-of-stock', []),
];

/** What a journey's messages say in the drawing, in span order: operation (and message) and ms from the start. */
function messageTexts(journeys: readonly TracedJourney[]): string[] {
  return journeys.flatMap((j) =>
    j.spans.filter((s) => s.parentSpanId !== undefined).map((s) => `${s.message ? `${s.operation} ${s.message}` : s.operation} (+${s.startMs.toFixed(1)} ms)`),
  );
}

/** The diagrams of a `trace --format mermaid` output (each in a ```mermaid fence). */
const fenced = (text: string) => [...text.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);

/** mermaid as the inlined bundle puts it on the page. */
type MermaidGlobal = { mermaid: { parse(text: string): Promise<{ diagramType: string }> } };

/** A box that scrolls or clips sideways (overflow-x not visible), its widths, and whether it is a table box or inside the full detail. */
interface OverflowBox {
  readonly what: string;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly table: boolean;
  readonly inFull: boolean;
}

/** The page's `getComputedStyle`, as far as the test reads it (the project compiles without the DOM's types). */
type StyleOf = { getComputedStyle(el: unknown): { overflowX: string } };

/**
 * Every rendered HTML element of the page whose overflow-x is not `visible` (the charts' and
 * diagrams' own SVG elements are drawings, not boxes). The function runs in the page: it
 * closes over nothing of this file.
 */
function overflowBoxes(page: Page): Promise<OverflowBox[]> {
  return page.$$eval('body *', (all) =>
    all
      // checkVisibility: shown, not inside a closed <details> (whose content chromium still lays out).
      .filter((el) => el.namespaceURI === 'http://www.w3.org/1999/xhtml' && el.checkVisibility() && (globalThis as unknown as StyleOf).getComputedStyle(el).overflowX !== 'visible')
      .map((el) => ({
        what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.classList.length > 0 ? `.${[...el.classList].join('.')}` : ''} ${(el.querySelector('caption, figcaption')?.textContent ?? '').slice(0, 60)}`.trim(),
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
        table: el.classList.contains('table'),
        inFull: el.closest('#full .full') !== null,
      })),
  );
}

function workshopDoc(): ResultsDocument {
  const doc = resultsDoc(
    PROFILES.flatMap((p) => [run(p, 'baseline'), run(p, 'outage')]).sort((a, b) => (a.scenario === b.scenario ? 0 : a.scenario === 'baseline' ? -1 : 1)),
    { readShare: 0.25 },
  );
  return {
    ...doc,
    scenarios: [...(doc.scenarios ?? []), { id: 'outage', title: 'Payments outage', description: 'Payments answers nothing from 1 s to 2 s.' }],
    capacity: capacity(PROFILES.map((p) => capacityRun(p.pattern, p.capacity, p.p99 * 3, ['system', 0.97]))),
    equalLoad: equalLoad(RATE, { pattern: 'saga-orchestration', capacity: 841 }),
    traces: tracesSection({ journeys: JOURNEYS }),
  };
}

describe.skipIf(!present)(present ? 'report.html in chromium' : `report.html in chromium (skipped: no chromium at ${CHROMIUM}; set PB_CHROMIUM)`, () => {
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  let chartIds: string[] = [];

  beforeAll(async () => {
    const doc = workshopDoc();
    const charts = await renderCharts(doc);
    chartIds = charts.map((c) => c.id);
    const dir = mkdtempSync(join(tmpdir(), 'pattern-bench-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(doc, charts));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: VIEWPORT });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    // Offline: whatever is not the file itself is refused (and still recorded above).
    await page.route((url) => !/^(file|data|about):/.test(url.href), (route) => route.abort());
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // mermaid draws on load, asynchronously: wait until every diagram holds an svg (a drawing or mermaid's error).
    await page.waitForFunction("[...document.querySelectorAll('pre.mermaid')].every((pre) => pre.querySelector('svg') !== null)");
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('draws marks in every chart', async () => {
    expect(chartIds.length).toBeGreaterThanOrEqual(4);
    const marks = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => ({ id: f.id, marks: f.querySelectorAll('svg [class*="mark-"]').length, drawn: f.querySelectorAll('svg .role-mark > *').length })),
    );
    expect(marks.map((m) => m.id)).toEqual(chartIds.map((id) => `chart-${id}`));
    for (const m of marks) {
      expect(m.marks, m.id).toBeGreaterThan(0);
      expect(m.drawn, m.id).toBeGreaterThan(0);
    }
  });

  it('draws every order journey: an svg per pattern with its services as participants and its spans as messages, no mermaid error', async () => {
    const drawn = await page.$$eval('figure.journey', (figures) =>
      figures.map((f) => ({
        id: f.id,
        svgs: f.querySelectorAll('pre.mermaid svg').length,
        // Left to right (mermaid writes the actors into the svg in reverse).
        actors: [
          ...new Set(
            [...f.querySelectorAll('svg text.actor')]
              .sort((a, b) => Number(a.getAttribute('x')) - Number(b.getAttribute('x')))
              .map((t) => t.textContent?.trim() ?? ''),
          ),
        ],
        messages: [...f.querySelectorAll('svg text.messageText')].map((t) => t.textContent?.trim() ?? ''),
        notes: f.querySelectorAll('svg text.noteText').length,
        text: f.textContent ?? '',
      })),
    );
    const patterns = [...new Set(JOURNEYS.map((j) => j.pattern))];
    expect(drawn.map((d) => d.id)).toEqual(patterns.map((p) => `journey-${p}`));
    for (const [i, pattern] of patterns.entries()) {
      const mine = JOURNEYS.filter((j) => j.pattern === pattern);
      const d = drawn[i];
      expect(d?.svgs, pattern).toBe(1);
      expect(d?.actors, pattern).toEqual([...new Set(mine.flatMap(servicesOf))]);
      expect(d?.messages, pattern).toEqual(messageTexts(mine));
      expect(d?.notes, pattern).toBe(mine.length);
      expect(d?.text, pattern).not.toMatch(/Syntax error|Parse error/i);
    }
  });

  it("passes every diagram `trace --format mermaid` prints through mermaid's own parser, and its parser refuses a broken one", async () => {
    const odd = tracedJourney('rest', 'declined', [
      ['client', 'orders', 'POST /orders;x#y: z', '`a` <b> "c" {d} [e] %% f'],
      ['orders', 'payments', 'end', 'loop alt opt'],
    ]);
    const sources = fenced(renderJourneyMermaid([...JOURNEYS, odd]));
    expect(sources).toHaveLength(3);
    const parse = (texts: string[]) =>
      page.evaluate(
        (all) =>
          Promise.all(
            all.map((t) =>
              (globalThis as unknown as MermaidGlobal).mermaid.parse(t).then(
                (r) => r.diagramType,
                (e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`,
              ),
            ),
          ),
        texts,
      );
    expect(await parse(sources)).toEqual(['sequence', 'sequence', 'sequence']);
    const [broken] = await parse(['sequenceDiagram\n  client->>: no receiver']);
    expect(broken).toMatch(/^error: Parse error/);
  });

  it('logs no error and fetches nothing from the network', () => {
    expect(consoleErrors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !/^(file|data|about):/.test(u))).toEqual([]);
  });

  it('never scrolls sideways at 1280×720: the page, and by default no box in it either (every table box included); opened, only the full detail scrolls inside its own boxes', async () => {
    const width = () => page.$eval('html', (html) => html.scrollWidth);
    expect(await width()).toBeLessThanOrEqual(VIEWPORT.width);
    // The default view: every box that could scroll or clip sideways holds what it shows.
    const boxes = await overflowBoxes(page);
    // The compact tables' boxes: capacity; per scenario the key figures and the reads; the outage's failure behaviour.
    expect(boxes.filter((b) => b.table).length).toBe(6);
    expect(boxes.filter((b) => b.scrollWidth > b.clientWidth)).toEqual([]);
    // The full detail, opened, holds every table at full width: those may scroll inside their boxes there, and only there.
    await page.$$eval('details', (all) => all.forEach((d) => d.setAttribute('open', '')));
    try {
      expect(await width()).toBeLessThanOrEqual(VIEWPORT.width);
      expect((await overflowBoxes(page)).filter((b) => b.scrollWidth > b.clientWidth && !b.inFull)).toEqual([]);
    } finally {
      await page.$$eval('details', (all) => all.forEach((d) => d.removeAttribute('open')));
    }
  });

  it('saves screenshots: the first screen and the whole page', async ({ annotate }) => {
    const first = join(tmpdir(), 'pattern-bench-report-1280x720.png');
    const whole = join(tmpdir(), 'pattern-bench-report-full.png');
    await page.screenshot({ path: first });
    await page.screenshot({ path: whole, fullPage: true });
    expect(existsSync(first) && existsSync(whole)).toBe(true);
    await annotate(`screenshots: ${first}, ${whole}`);
    process.stderr.write(`browser.test: screenshots ${first} and ${whole}\n`);
  });
});
