/** The report's charts: each chart's data from constructed results, and the SVGs vega renders from them. */
import { describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import { LatencyHistogram, mergeLatency } from '../src/metrics/histogram.js';
import {
  capacityData,
  costData,
  planCharts,
  renderCharts,
  renderSvg,
  spectrumData,
  spectrumX,
  SPECTRUM_PERCENTILES,
  sweepData,
  throughputData,
  timelineData,
  timelineSpec,
} from '../src/report/charts/index.js';
import { p99Domain, TIMELINE_PANEL_WIDTH } from '../src/report/charts/timeline.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { summarize } from '../src/report/summary.js';
import { curve, equalLoadDoc, step, sweepDoc } from './support/figures.js';
import { capacityPhase, completedRun, failure, latency, resultsDoc } from './support/results.js';

const PATTERNS = ['direct', 'rest', 'grpc', 'queue', 'event-sourcing', 'saga-choreography', 'saga-orchestration'];

/** A recorded histogram: `n` orders spread from `fromMs` to `toMs`, a tail of `tail` orders at `tailMs`. */
function recorded(n: number, fromMs: number, toMs: number, tail = 0, tailMs = toMs * 10): LatencyHistogram {
  const h = new LatencyHistogram();
  for (let i = 0; i < n; i++) h.recordMs(fromMs + ((toMs - fromMs) * i) / n);
  for (let i = 0; i < tail; i++) h.recordMs(tailMs + i);
  return h;
}

/** A run whose latency is `h`'s, summary and histogram both. */
function withHistogram(h: LatencyHistogram, overrides: Partial<CompletedRun> = {}): CompletedRun {
  return completedRun({ latencyMs: h.summary(), latencyHistogram: h.encode(), ...overrides });
}

/** A fault run's timeline: 30 slices of 100 ms, failures and a slow p99 during 1–2 s. */
function faultRun(pattern: string, overrides: Partial<CompletedRun> = {}): CompletedRun {
  const timeline = Array.from({ length: 30 }, (_, i) => {
    const during = i >= 10 && i < 20;
    return { atMs: i * 100, completed: during ? 20 : 100, failed: during ? 80 : 0, p99Ms: during ? 250 : 12 };
  });
  return completedRun({ pattern, scenario: 'outage', failure: failure({ kind: 'recovered', ms: 300 }), timeline, ...overrides });
}

/** A default run's document: 7 patterns × baseline and a fault scenario, histograms, capacity and equal load. */
function defaultRunDoc(): ResultsDocument {
  const runs = PATTERNS.flatMap((pattern, i) => [
    withHistogram(recorded(3000, 2 + i, 20 + 5 * i, 5), { pattern, throughput: { target: 412, offered: 412, achieved: 410 + i } }),
    { ...faultRun(pattern), latencyMs: recorded(3000, 2 + i, 300, 30).summary(), latencyHistogram: recorded(3000, 2 + i, 300, 30).encode() },
  ]);
  return {
    ...resultsDoc(runs),
    capacity: capacityPhase(PATTERNS.map((p, i) => [p, 600 + 300 * i] as const)),
    equalLoad: { rate: 412, source: 'capacity', fraction: 0.7, basis: { pattern: 'rest', capacity: 589 } },
  };
}

/** How many elements the SVG draws in data marks of type `type` (axes and legends, drawn with marks too, left out). */
function marks(svg: string, type: string): number {
  const groups = svg.split(`<g class="mark-${type} role-mark`).slice(1);
  // Each group's items, up to the group's end: vega writes a mark's items as siblings inside its <g>, and an empty mark as <g …/>.
  return groups.reduce((n, g) => {
    const open = g.slice(0, g.indexOf('>') + 1);
    return open.endsWith('/>') ? n : n + (g.slice(open.length, g.indexOf('</g>')).match(/<(path|line|rect)\b/g) ?? []).length;
  }, 0);
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** The rects a named mark draws (a shaded fault window): each one's aria label and its x and width, px, from its path. */
function shadeOf(svg: string, name: string): { label: string; x: number; width: number }[] {
  const start = svg.indexOf(`<g class="mark-rect role-mark ${name}_marks"`);
  if (start < 0) return [];
  const group = svg.slice(start, svg.indexOf('</g>', start));
  return [...group.matchAll(/<path aria-label="([^"]*)"[^>]*d="M([\d.]+),0h([\d.]+)/g)].map((m) => ({
    label: m[1] ?? '',
    x: round3(Number(m[2])),
    width: round3(Number(m[3])),
  }));
}

describe('throughputData', () => {
  it('has one bar per pattern × scenario at the median, with the summary’s interval from 2 trials on', () => {
    const runs = [1000, 1100, 1200].map((achieved, i) => completedRun({ trial: i + 1, throughput: { target: null, offered: null, achieved } }));
    const doc = resultsDoc([...runs, completedRun({ pattern: 'grpc' })]);
    const rows = summarize(doc);
    const bars = throughputData(rows);
    const rest = rows.find((r) => r.pattern === 'rest')?.achieved;
    expect(bars).toEqual([
      { pattern: 'rest', scenario: 'baseline', achieved: 1100, low: rest?.low, high: rest?.high, trials: 3 },
      { pattern: 'grpc', scenario: 'baseline', achieved: 1000, low: null, high: null, trials: 1 },
    ]);
    expect(rest?.low).toBe(1000);
    expect(rest?.high).toBe(1200);
  });
});

describe('capacityData', () => {
  it('takes each pattern’s median capacity and the equal load', () => {
    const doc = { ...equalLoadDoc(), capacity: capacityPhase([['rest', 2000], ['rest', 2200], ['rest', 2100], ['saga-orchestration', 589]]) };
    expect(capacityData(doc)).toEqual({ bars: [{ pattern: 'rest', capacity: 2100 }, { pattern: 'saga-orchestration', capacity: 589 }], rate: 412 });
  });

  it('has no bars without a capacity phase', () => {
    expect(capacityData(resultsDoc([completedRun()]))).toEqual({ bars: [], rate: null });
  });
});

describe('spectrumData', () => {
  it('merges the trials’ histograms: its p99 and p99.9 are mergeLatency’s, its max the exact maximum', () => {
    const a = recorded(5000, 1, 10, 20, 200);
    const b = recorded(5000, 2, 30, 5, 500);
    const doc = resultsDoc([withHistogram(a), withHistogram(b, { trial: 2 })]);
    const points = spectrumData(doc);
    expect(points.map((p) => p.q)).toEqual([...SPECTRUM_PERCENTILES]);
    const merged = mergeLatency([a, b].map((h) => ({ histogram: h.encode(), summary: h.summary() })));
    const at = (q: number) => points.find((p) => p.q === q)?.ms;
    expect(at(50)).toBe(merged.p50);
    expect(at(99)).toBe(merged.p99);
    expect(at(99.9)).toBe(merged.p999);
    expect(at(100)).toBe(merged.max);
    expect(points.every((p) => p.source === 'histogram' && p.pattern === 'rest')).toBe(true);
    // Non-decreasing along the percentiles.
    expect(points.every((p, i) => i === 0 || (points[i - 1]?.ms ?? 0) <= p.ms)).toBe(true);
  });

  it('has one spectrum per pattern × scenario', () => {
    const h = recorded(100, 1, 10);
    const doc = resultsDoc([withHistogram(h), withHistogram(h, { pattern: 'grpc' }), withHistogram(h, { scenario: 'outage' })]);
    const groups = new Set(spectrumData(doc).map((p) => `${p.pattern}/${p.scenario}`));
    expect([...groups]).toEqual(['rest/baseline', 'grpc/baseline', 'rest/outage']);
  });

  it('places percentiles at 1/(1−q): 2, 10, 100, 1000, 10000', () => {
    expect([50, 90, 99, 99.9, 99.99].map(spectrumX)).toEqual([2, 10, 100, 1000, 10_000]);
    expect(spectrumX(99.95)).toBe(2000);
  });

  it('falls back to the summary’s percentiles when a trial has no histogram', () => {
    const doc = resultsDoc([completedRun({ latencyMs: latency(5, 20, 40) })]);
    expect(spectrumData(doc).map((p) => [p.q, p.ms, p.source])).toEqual([
      [50, 5, 'summary'],
      [90, 12.5, 'summary'],
      [99, 20, 'summary'],
      [99.9, 40, 'summary'],
      [100, 40, 'summary'],
    ]);
  });

  it('marks the points that fall among timed-out orders as lower bounds', () => {
    const h = recorded(990, 1, 10);
    for (let i = 0; i < 10; i++) h.recordLowerBoundMs(1000);
    const points = spectrumData(resultsDoc([withHistogram(h)]));
    expect(points.filter((p) => p.atLeast).map((p) => p.q)).toEqual([99.5, 99.9, 99.95, 99.99, 100]);
  });
});

describe('timelineData', () => {
  it('draws each pattern’s first trial of each fault scenario, its window shaded where the run’s fault was', () => {
    const second = faultRun('rest', { trial: 2, failure: failure({ kind: 'recovered', ms: 300 }, { faultWindowMs: { fromMs: 500, toMs: 900 } }) });
    const grpc = faultRun('grpc', { failure: failure({ kind: 'recovered', ms: 100 }, { faultWindowMs: { fromMs: 1200, toMs: 2100 } }) });
    const doc = resultsDoc([completedRun(), faultRun('rest'), second, grpc]);
    const [chart, ...more] = timelineData(doc);
    expect(more).toEqual([]);
    expect(chart?.scenario).toBe('outage');
    expect(chart?.bucketMs).toBe(100);
    expect(chart?.durationMs).toBe(3000);
    expect(chart?.windows).toEqual([
      { pattern: 'rest', fromMs: 1000, toMs: 2000 },
      { pattern: 'grpc', fromMs: 1200, toMs: 2100 },
    ]);
    expect(chart?.slices).toHaveLength(60);
    expect(chart?.slices[10]).toEqual({ pattern: 'rest', atMs: 1000, completed: 20, failed: 80, p99Ms: 250 });
  });

  it('has no chart without a fault scenario', () => {
    expect(timelineData(resultsDoc([completedRun(), completedRun({ pattern: 'grpc' })]))).toEqual([]);
  });

  it('reads older timelines without p99 as null', () => {
    const run = faultRun('rest', { timeline: [{ atMs: 0, completed: 5, failed: 1 }] });
    expect(timelineData(resultsDoc([run]))[0]?.slices).toEqual([{ pattern: 'rest', atMs: 0, completed: 5, failed: 1, p99Ms: null }]);
  });
});

describe('sweepData', () => {
  it('has every step, the knee marked at kneeStep, and the SLO', () => {
    const doc = sweepDoc([curve('rest', [step(100, 100, 2, 10), step(200, 199, 3, 30), step(400, 300, 40, 400)], 'saturated')]);
    expect(sweepData(doc)).toEqual({
      sloMs: 50,
      points: [
        { pattern: 'rest', rate: 100, achieved: 100, p99Ms: 10, knee: false },
        { pattern: 'rest', rate: 200, achieved: 199, p99Ms: 30, knee: true },
        { pattern: 'rest', rate: 400, achieved: 300, p99Ms: 400, knee: false },
      ],
    });
  });

  it('is null without a sweep', () => {
    expect(sweepData(resultsDoc([completedRun()]))).toBeNull();
  });
});

describe('costData', () => {
  it('splits CPU into system and generator, and has bytes and messages per order', () => {
    expect(costData(summarize(resultsDoc([completedRun()])))).toEqual([
      { pattern: 'rest', panel: 'cpu', part: 'system', value: 700 },
      { pattern: 'rest', panel: 'cpu', part: 'generator', value: 150 },
      { pattern: 'rest', panel: 'bytes', part: 'bytes', value: 1500 },
      { pattern: 'rest', panel: 'messages', part: 'messages', value: 8 },
    ]);
  });

  it('shows the whole process’s CPU when the system shares the generator’s thread, and leaves out a missing wire', () => {
    const base = completedRun().cost;
    const run = completedRun({
      cost: { ...base, system: { ...base.system, sharesGeneratorThread: true, cpuMicrosPerOrder: null }, bytesPerOrder: null, messagesPerOrder: null },
    });
    expect(costData(summarize(resultsDoc([run])))).toEqual([{ pattern: 'rest', panel: 'cpu', part: 'process', value: 900 }]);
  });
});

describe('planCharts', () => {
  it('plans only what the document has: no timeline without a fault scenario, no sweep without a sweep', () => {
    expect(planCharts(resultsDoc([completedRun()])).map((c) => c.id)).toEqual(['throughput', 'latency-spectrum', 'cost']);
    expect(planCharts(defaultRunDoc()).map((c) => c.id)).toEqual(['throughput', 'capacity', 'latency-spectrum', 'timeline-outage', 'cost']);
    const sweep = sweepDoc([curve('rest', [step(100, 100, 2, 10)], 'steps')]);
    expect(planCharts(sweep).map((c) => c.id)).toEqual(['sweep']);
  });

  it('puts no URL in any spec: every chart’s data is inline', () => {
    for (const plan of planCharts(defaultRunDoc())) expect(JSON.stringify(plan.spec)).not.toMatch(/"url"|https?:/);
  });

  it('gives file-name-safe ids', () => {
    // The config validates scenario names; a file may still carry any.
    const doc = { ...resultsDoc([faultRun('rest')]), runs: [faultRun('rest', { scenario: 'slow network/2' })] };
    expect(planCharts(doc).map((c) => c.id)).toContain('timeline-slow-network-2');
  });
});

describe('renderCharts', () => {
  it('renders a default run’s charts as SVGs with drawn marks', async () => {
    const charts = await renderCharts(defaultRunDoc());
    const byId = new Map(charts.map((c) => [c.id, c.svg]));
    for (const c of charts) {
      expect(c.svg.startsWith('<svg'), c.id).toBe(true);
      expect(c.svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    }
    expect(marks(byId.get('throughput') ?? '', 'rect')).toBeGreaterThan(0);
    expect(marks(byId.get('throughput') ?? '', 'rule')).toBe(0); // one trial: no whiskers
    expect(marks(byId.get('latency-spectrum') ?? '', 'line')).toBeGreaterThan(0);
    const timeline = byId.get('timeline-outage') ?? '';
    // Each pattern's 30 slices, completed and failed, and its fault window shaded twice (counts and p99).
    expect(marks(timeline, 'rect')).toBeGreaterThanOrEqual(7 * (2 * 30 + 2));
    expect(marks(timeline, 'line')).toBeGreaterThan(0);
    expect(marks(byId.get('cost') ?? '', 'rect')).toBeGreaterThan(0);
  });

  it('renders a sweep’s curves with the knee ringed', async () => {
    const doc = sweepDoc([curve('rest', [step(100, 100, 2, 10), step(200, 199, 3, 30), step(400, 300, 40, 400)], 'saturated')]);
    const [chart, ...more] = await renderCharts(doc);
    expect(more).toEqual([]);
    expect(chart?.id).toBe('sweep');
    expect(marks(chart?.svg ?? '', 'line')).toBeGreaterThan(0);
    expect(marks(chart?.svg ?? '', 'symbol')).toBeGreaterThan(0);
  });

  it('shades the fault window where the run’s failure.faultWindowMs is, on each panel’s 400 px time axis', async () => {
    const run = faultRun('rest', { failure: failure({ kind: 'recovered', ms: 300 }, { faultWindowMs: { fromMs: 600, toMs: 1800 } }) });
    const data = timelineData(resultsDoc([run]))[0];
    if (!data) throw new Error('no timeline');
    const svg = await renderSvg(timelineSpec(data));
    // The pattern's counts panel and its p99 panel: 0.6 s → 1.8 s of 3 s is 80 px → 240 px.
    expect(TIMELINE_PANEL_WIDTH).toBe(400);
    expect(shadeOf(svg, 'shade_counts_0')).toEqual([{ label: 'fromS: 0.6; toS: 1.8', x: 80, width: 160 }]);
    expect(shadeOf(svg, 'shade_p99_0')).toEqual([{ label: 'fromS: 0.6; toS: 1.8', x: 80, width: 160 }]);
  });

  it('shades each pattern’s own fault window in its counts panel and in its p99 panel', async () => {
    // rest's fault ran 1000–2000 ms into its window, grpc's 1200–2100 ms: neither panel may show the other's.
    const grpc = faultRun('grpc', { failure: failure({ kind: 'recovered', ms: 100 }, { faultWindowMs: { fromMs: 1200, toMs: 2100 } }) });
    const doc = resultsDoc([faultRun('rest'), grpc]);
    const data = timelineData(doc)[0];
    if (!data) throw new Error('no timeline');
    const svg = await renderSvg(timelineSpec(data));
    const px = (ms: number) => round3((ms / 3000) * TIMELINE_PANEL_WIDTH);
    for (const [i, run] of doc.runs.entries()) {
      const w = run.state === 'completed' ? run.failure?.faultWindowMs : undefined;
      if (!w) throw new Error('a fault run without a fault window');
      const expected = [{ label: `fromS: ${w.fromMs / 1000}; toS: ${w.toMs / 1000}`, x: px(w.fromMs), width: px(w.toMs - w.fromMs) }];
      expect(shadeOf(svg, `shade_p99_${i}`), `${run.pattern} p99`).toEqual(expected);
      expect(shadeOf(svg, `shade_counts_${i}`), `${run.pattern} counts`).toEqual(expected);
    }
    // Rows in the document's order, each titled with its pattern.
    expect([...svg.matchAll(/<text[^>]*>(rest|grpc)<\/text>/g)].map((m) => m[1])).toEqual(['rest', 'grpc']);
  });

  it('puts every pattern’s p99 on one log axis: the smallest to the largest p99 of any slice, niced', () => {
    const slow = faultRun('grpc', { timeline: [{ atMs: 0, completed: 5, failed: 0, p99Ms: 3 }, { atMs: 100, completed: 5, failed: 0, p99Ms: 900 }] });
    const data = timelineData(resultsDoc([faultRun('rest'), slow]))[0];
    if (!data) throw new Error('no timeline');
    expect(p99Domain(data.slices)).toEqual([3, 900]);
    const scales = JSON.stringify(timelineSpec(data)).match(/"scale":\{"type":"log"[^}]*\}/g);
    expect(scales).toEqual(['"scale":{"type":"log","domain":[3,900],"nice":true}', '"scale":{"type":"log","domain":[3,900],"nice":true}']);
  });
});

describe('renderMarkdown with charts', () => {
  const doc = resultsDoc([completedRun()]);

  it('embeds each chart in a Charts section before the main tables', () => {
    const md = renderMarkdown(doc, { charts: [{ id: 'throughput', title: 'Throughput', file: 'charts/throughput.svg' }] });
    const lines = md.split('\n');
    const charts = lines.indexOf('## Charts');
    expect(charts).toBeGreaterThan(lines.indexOf('```', lines.indexOf('```') + 1));
    expect(lines[charts + 2]).toBe('![Throughput](charts/throughput.svg)');
    expect(charts).toBeLessThan(lines.findIndex((l) => l.startsWith('## Outcomes')));
  });

  it('escapes brackets in a chart’s title', () => {
    const md = renderMarkdown(doc, { charts: [{ id: 'cost', title: 'Cost [baseline]', file: 'cost.svg' }] });
    expect(md.split('\n')).toContain('![Cost \\[baseline\\]](cost.svg)');
  });

  it('is unchanged without charts', () => {
    expect(renderMarkdown(doc, { charts: [] })).toBe(renderMarkdown(doc));
    expect(renderMarkdown(doc)).not.toContain('## Charts');
  });
});
