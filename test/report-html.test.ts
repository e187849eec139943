/** The projector page: one self-contained HTML file, its sections in order, nothing loaded, every text escaped. */
import { describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';
import { renderHtml } from '../src/report/html.js';
import { verdicts } from '../src/report/verdicts.js';
import { why } from '../src/report/why.js';
import { capacity, capacityRun, equalLoad, runAt } from './support/figures.js';
import { completedRun, failure, latency, resultsDoc } from './support/results.js';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="50" viewBox="0 0 100 50"><g class="mark-rect role-mark"><path d="M0,0h10v10h-10Z"></path></g></svg>';
const charts = [
  { id: 'throughput', title: 'Throughput per pattern and scenario', svg: SVG },
  { id: 'timeline-outage', title: 'Timeline: Payments outage', svg: SVG },
];

function doc(): ResultsDocument {
  const base = completedRun();
  const grpc = { protocol: 'HTTP/2 (gRPC)', encoding: 'protobuf', broker: null, placement: 'shared' } as const;
  const runs = [
    runAt(700, { latencyMs: latency(3, 8) }),
    runAt(700, { pattern: 'grpc', transport: grpc, latencyMs: latency(2, 6), cost: { ...base.cost, system: { ...base.cost.system, cpuMicrosPerOrder: 2100 } } }),
    runAt(700, { scenario: 'outage', failure: failure({ kind: 'recovered', ms: 800 }) }),
    runAt(700, { pattern: 'grpc', scenario: 'outage', transport: grpc, failure: failure({ kind: 'never-dropped' }, { successRate: 1 }) }),
  ];
  const d = resultsDoc(runs);
  return {
    ...d,
    scenarios: [...(d.scenarios ?? []), { id: 'outage', title: 'Payments outage', description: 'Payments is down.' }],
    capacity: capacity([capacityRun('rest', 1000), capacityRun('grpc', 1500)]),
    equalLoad: equalLoad(700, { pattern: 'rest', capacity: 1000 }),
  };
}

/** Where each of `texts` first is in `html`, asserting each is there. */
function positions(html: string, texts: readonly string[]): number[] {
  return texts.map((t) => {
    const i = html.indexOf(t);
    expect(i, t).toBeGreaterThan(-1);
    return i;
  });
}

describe('renderHtml', () => {
  it('puts the header, verdicts, why, charts, key figures, the full detail and the pattern cards in that order', () => {
    const html = renderHtml(doc(), charts);
    const at = positions(html, [
      '<h1>pattern-bench: 2 patterns, baseline + outage</h1>',
      "Load: open loop at 700 orders/s for every pattern: 70% of the slowest pattern&#39;s capacity (rest, 1,000 orders/s)",
      'Placement shared: the whole system under test on one worker thread',
      '<h2>Verdicts</h2>',
      '<h2>Why, not only what</h2>',
      '<h2>Charts</h2>',
      '<figure class="chart" id="chart-throughput"><figcaption>Throughput per pattern and scenario</figcaption><svg',
      '<figure class="chart" id="chart-timeline-outage">',
      '<h2>Key figures</h2>',
      '<caption>Capacity: closed loop, 16 orders in flight, 1 s per pattern</caption>',
      '<caption>Baseline: throughput, latency and cost</caption>',
      '<caption>Payments outage: failure behaviour</caption>',
      '<details id="full"><summary>',
      '<h2>The patterns</h2><div class="cards">',
    ]);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('shows each verdict and why sentence, escaped, the pattern in bold', () => {
    const d = doc();
    const html = renderHtml(d, charts);
    expect(verdicts(d).map((v) => v.sentence)).toEqual([
      'rest: 1k orders/s capacity, p99 8 ms at equal load; lost no order through the payments outage (90% succeeded, recovered in 800 ms)',
      'grpc: 1.5k orders/s capacity, p99 6 ms at equal load; kept every order through the payments outage',
    ]);
    expect(html).toContain('<li><strong>rest</strong>: 1k orders/s capacity, p99 8 ms at equal load; lost no order through the payments outage (90% succeeded, recovered in 800 ms)</li>');
    expect(why(d)).toEqual(["grpc's 2,100 CPU µs/order is 3.0× rest's: 8.0 messages and 1,500 bytes per order through HTTP/2 (gRPC) framing and protobuf."]);
    expect(html).toContain("<li>grpc&#39;s 2,100 CPU µs/order is 3.0× rest&#39;s: 8.0 messages and 1,500 bytes per order through HTTP/2 (gRPC) framing and protobuf.</li>");
  });

  it('renders compact tables of the key columns, numbers right-aligned', () => {
    const html = renderHtml(doc(), charts);
    expect(html).toContain(
      '<tr><th>pattern</th><th class="num">orders/s</th><th class="num">p50 ms</th><th class="num">p99 ms</th><th class="num">accept p50 ms</th><th class="num">CPU µs/order</th><th class="num">bytes/order</th><th class="num">msgs/order</th><th>invariants</th></tr>',
    );
    expect(html).toContain('<tr><td>grpc</td><td class="num">700</td><td class="num">2.00</td><td class="num">6.00</td><td class="num">—</td><td class="num">2,100</td><td class="num">1,500</td><td class="num">8.0</td><td>OK</td></tr>');
    expect(html).toContain('<tr><td>rest</td><td class="num">90%</td><td class="num">— → —</td><td class="num">0.80 s</td><td class="num">0 / 0</td><td class="num">—</td><td>OK</td></tr>');
  });

  it('loads nothing: no remote source, link, stylesheet, import or script; SVG namespaces allowed', () => {
    const html = renderHtml(doc(), charts);
    for (const banned of ['src="http', 'href="http', 'url(http', '@import', '<script src', '<link', '<script', '<img', '<iframe']) expect(html, banned).not.toContain(banned);
    expect(html).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(html).toContain('<style>');
    expect(html).toContain('font:17px/1.45 system-ui');
  });

  it('escapes every text from the document, pattern names included, in the verdicts, tables, cards and full detail', () => {
    const evil = '<img src="http://x/y.png">';
    // The config accepts only known names; a hand-edited results file need not.
    const d = resultsDoc([completedRun()], { concurrency: 4 });
    const cards = (d.patterns ?? []).map((p) => ({ ...p, id: evil, title: '<b>Title</b>', summary: 'a & b', tradeOffs: { pros: ['<i>p</i>'], cons: ['<u>c</u>'], whenToUse: '<script>w</script>' } }));
    const html = renderHtml({ ...d, runs: d.runs.map((r) => ({ ...r, pattern: evil })), patterns: cards }, []);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('src="http');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>Title');
    expect(html).toContain('<li><strong>&lt;img src=&quot;http://x/y.png&quot;&gt;</strong>: p99 20 ms closed loop</li>');
    expect(html).toContain('<h3>&lt;b&gt;Title&lt;/b&gt; <code>&lt;img src=&quot;http://x/y.png&quot;&gt;</code></h3><p>a &amp; b</p>');
  });

  it('renders without charts and keeps the markdown report inside the details', () => {
    const html = renderHtml(doc());
    expect(html).not.toContain('<h2>Charts</h2>');
    expect(html).toContain('<h2>Definitions</h2>');
    expect(html.indexOf('<h2>Definitions</h2>')).toBeGreaterThan(html.indexOf('<details id="full">'));
  });
});
