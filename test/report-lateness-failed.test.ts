/** Scheduler lateness p99 and the failed orders' latency as figures of report.md and report.html, cell by cell on a constructed document. */
import { describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { equalLoad, runAt } from './support/figures.js';
import { failure, latency, resultsDoc } from './support/results.js';

/**
 * rest and grpc at 412 orders/s, baseline and outage: rest's generator ran 1.2 ms late at
 * p99 in the baseline and 0.45 ms in the outage, grpc's 0.4 ms in the baseline and — none
 * recorded — in the outage; 40 of rest's orders failed in the outage (p50 80 ms, p99 2 s),
 * none of grpc's.
 */
function doc(): ResultsDocument {
  const runs = [
    runAt(412, { schedulerLatenessMs: latency(0.3, 1.2) }),
    runAt(412, { pattern: 'grpc', schedulerLatenessMs: latency(0.1, 0.4) }),
    runAt(412, { scenario: 'outage', schedulerLatenessMs: latency(0.1, 0.45), failure: failure({ kind: 'recovered', ms: 800 }), failedLatencyMs: latency(80, 2000, 2500, 40) }),
    runAt(412, { pattern: 'grpc', scenario: 'outage', failure: failure({ kind: 'never-dropped' }, { successRate: 1 }), failedLatencyMs: null }),
  ];
  const d = resultsDoc(runs);
  return {
    ...d,
    scenarios: [...(d.scenarios ?? []), { id: 'outage', title: 'Payments outage', description: 'Payments is down.' }],
    equalLoad: equalLoad(412, { pattern: 'grpc', capacity: 589 }),
  };
}

type Cells = Record<string, string>;

/** The markdown table under the heading `## title`: one record per body row, by header. */
function markdownTable(md: string, title: string): Cells[] {
  const lines = md.split('\n');
  const at = lines.indexOf(`## ${title}`);
  expect(at, title).toBeGreaterThan(-1);
  const table: string[] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    table.push(line);
  }
  const cells = (line: string) => line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
  const [head, , ...rows] = table;
  const headers = cells(head ?? '');
  return rows.map((r) => Object.fromEntries(cells(r).map((c, i) => [headers[i] ?? '', c])));
}

/** The first HTML table after `marker` (from `from` on): one record per body row, by header, entities as they are. */
function htmlTable(html: string, marker: string, from = 0): Cells[] {
  const at = html.indexOf(marker, from);
  expect(at, marker).toBeGreaterThan(-1);
  const start = html.indexOf('<table', at);
  const table = html.slice(start, html.indexOf('</table>', start));
  const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...(m[1] ?? '').matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1] ?? ''));
  const [headers = [], ...body] = rows;
  return body.map((r) => Object.fromEntries(r.map((c, i) => [headers[i] ?? '', c])));
}

const pick = (rows: readonly Cells[], ...headers: string[]) => rows.map((r) => headers.map((h) => r[h]));

describe('report.md', () => {
  const md = renderMarkdown(doc());

  it('shows each row’s scheduler lateness p99 in the latency table, next to p99.9, accept and wire cost', () => {
    const rows = markdownTable(md, 'Throughput and latency at equal load (412 orders/s, open loop)');
    expect(Object.keys(rows[0] ?? {})).toEqual(['pattern', 'scenario', 'trials', 'orders/s', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'lateness p99 ms', 'accept p50/p99 ms', 'bytes/order', 'msgs/order']);
    expect(pick(rows, 'pattern', 'scenario', 'lateness p99 ms')).toEqual([
      ['rest', 'baseline', '1.20'],
      ['grpc', 'baseline', '0.400'],
      ['rest', 'outage', '0.450'],
      ['grpc', 'outage', '—'],
    ]);
  });

  it('keeps the lateness warning for the row over 10% of its p50, and only that row', () => {
    // rest's baseline p50 is 5 ms: 1.2 ms is over 10%; its outage 0.45 ms and grpc's 0.4 ms are not.
    expect(md.split('\n').filter((l) => l.includes('started orders up to'))).toEqual([
      "> rest (baseline): the load generator started orders up to 1.20 ms late (p99), more than 10% of p50 5.00 ms: latency here is partly the generator's.",
    ]);
  });

  it('shows the failed orders’ p50 / p99 in the failure table, — where no order failed', () => {
    const rows = markdownTable(md, 'Failure behaviour');
    expect(pick(rows, 'pattern', 'scenario', 'success', 'failed p50/p99 ms')).toEqual([
      ['rest', 'outage', '90%', '80.0 / 2,000'],
      ['grpc', 'outage', '100%', '—'],
    ]);
  });
});

describe('report.html', () => {
  const html = renderHtml(doc());
  const full = html.indexOf('<details id="full">');

  it('shows the lateness p99 in the full detail’s latency table', () => {
    expect(full).toBeGreaterThan(-1);
    const rows = htmlTable(html, '>Throughput and latency at equal load (412 orders/s, open loop)</h2>', full);
    expect(pick(rows, 'pattern', 'scenario', 'p99.9 ms', 'lateness p99 ms', 'bytes/order')).toEqual([
      ['rest', 'baseline', '20.0', '1.20', '1,500'],
      ['grpc', 'baseline', '20.0', '0.400', '1,500'],
      ['rest', 'outage', '20.0', '0.450', '1,500'],
      ['grpc', 'outage', '20.0', '—', '1,500'],
    ]);
  });

  it('shows the failed orders’ p50 / p99 in the full detail’s failure table', () => {
    const rows = htmlTable(html, '>Failure behaviour</h2>', full);
    expect(pick(rows, 'pattern', 'failed p50/p99 ms')).toEqual([
      ['rest', '80.0 / 2,000'],
      ['grpc', '—'],
    ]);
  });
});
