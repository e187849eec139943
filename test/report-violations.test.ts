import { describe, expect, it } from 'vitest';
import type { CompletedRun, JourneyEvent, ResultsDocument } from '../src/bench/results.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { storyOf } from '../src/report/violations.js';
import { completedRun, resultsDoc } from './support/results.js';

const journey: JourneyEvent[] = [
  { ms: 0, service: 'client', event: 'placed', what: 'placed' },
  { ms: 0.4, service: 'orders', event: 'status', what: 'PENDING', status: 'PENDING' },
  { ms: 12, service: 'payments', event: 'charged', what: 'charge 500 cents', amountCents: 500 },
  { ms: 12.1, service: 'orders', event: 'status', what: 'CHARGED', status: 'CHARGED' },
  { ms: 2000, service: 'client', event: 'errored', what: 'error TIMEOUT', code: 'TIMEOUT' },
  { ms: 2010, service: 'orders', event: 'status', what: 'CANCELLED (downstream_error)', status: 'CANCELLED', reason: 'downstream_error' },
];

/** A grpc outage run that leaked two charges (the first shown), beside a rest run that kept its invariants. */
function brokenDoc(): ResultsDocument {
  const broken: CompletedRun = completedRun({
    pattern: 'grpc',
    scenario: 'outage',
    invariants: { ...completedRun().invariants, ok: false, leakedCharges: 2 },
    violations: [{ invariant: 'leakedCharges', count: 2, orders: [{ orderId: 'o-17', journey }] }],
  });
  return resultsDoc([completedRun({ scenario: 'outage' }), broken]);
}

describe('report: broken invariants explained', () => {
  it('reads a leaked charge as charged, client timeout, cancelled, never refunded', () => {
    expect(storyOf('leakedCharges', journey)).toBe('charged at 12 ms, client error TIMEOUT at 2,000 ms, cancelled (downstream_error) at 2,010 ms, never refunded');
  });

  it('lists, in report.md, the run, the invariant, the order ids, the story and every journey row', () => {
    const md = renderMarkdown(brokenDoc());
    const section = md.slice(md.indexOf('## Broken invariants explained'));
    expect(section).toContain('### grpc / outage, trial 1');
    expect(section).toContain('**leakedCharges** (2): `o-17` — the first 1 of 2');
    expect(section).toContain('`o-17`: charged at 12 ms, client error TIMEOUT at 2,000 ms, cancelled (downstream_error) at 2,010 ms, never refunded.');
    expect(section).toContain(
      ['| ms | service | what |', '| ---: | --- | --- |', '| 0 | client | placed |', '| 0.4 | orders | PENDING |', '| 12 | payments | charge 500 cents |', '| 12.1 | orders | CHARGED |', '| 2,000 | client | error TIMEOUT |', '| 2,010 | orders | CANCELLED (downstream_error) |'].join('\n'),
    );
    expect(section).not.toContain('rest /');
  });

  it('has no such section when every invariant held', () => {
    const ok = resultsDoc([completedRun()]);
    expect(renderMarkdown(ok)).not.toContain('Broken invariants explained');
    expect(renderHtml(ok)).not.toContain('id="violations"');
  });

  it('links the BROKEN cells of the HTML tables to the run\'s violations, under their anchor', () => {
    const html = renderHtml(brokenDoc());
    expect(html).toContain('<div id="violations-grpc-outage-1"><h3>grpc / outage, trial 1</h3>');
    expect(html).toContain('<td><a href="#violations-grpc-outage-1">BROKEN: leakedCharges 2</a></td>');
    expect(html).toContain('<p><code>o-17</code>: charged at 12 ms, client error TIMEOUT at 2,000 ms, cancelled (downstream_error) at 2,010 ms, never refunded.</p>');
    expect(html).toContain('<tr><td class="num">2,010</td><td>orders</td><td>CANCELLED (downstream_error)</td></tr>');
    // The rest row held: its cell is plain text.
    expect(html).not.toContain('href="#violations-rest');
  });
});
