import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';
import { otlpEndpoint } from '../src/tracing/otlp.js';
import { runBinary } from './support/cli.js';

/** The built binary, as a user runs it: it must exit by itself (no handle left open). */
const cli = (args: string[], timeoutMs = 60_000) => runBinary(args, timeoutMs);

interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
}

/** A real OTLP/HTTP receiver (JSON encoding) on loopback: every span it was sent, with its resource's service.name. */
async function receiver(): Promise<{ url: string; spans: ReceivedSpan[]; paths: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      type Attr = { key: string; value: { stringValue?: string } };
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] };
      for (const rs of doc.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ service, name: s.name, traceId: s.traceId });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, paths, close: () => new Promise((r) => server.close(() => r())) };
}

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-otlp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let closeReceiver: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeReceiver?.();
  closeReceiver = undefined;
});

describe('otlpEndpoint', () => {
  it('adds /v1/traces to a bare endpoint, keeps a path that is given, refuses what is not http(s)', () => {
    expect(otlpEndpoint('--otlp', 'http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(otlpEndpoint('--otlp', 'https://collector.example/otlp/v1/traces')).toBe('https://collector.example/otlp/v1/traces');
    expect(() => otlpEndpoint('--otlp', 'grpc://127.0.0.1:4317')).toThrow('invalid value for --otlp: "grpc://127.0.0.1:4317"');
    expect(() => otlpEndpoint('--otlp', 'collector')).toThrow('invalid value for --otlp: "collector"');
  });
});

describe('trace --otlp', () => {
  it('delivers every span of the printed journeys to a real OTLP/HTTP receiver, one service.name per service', async () => {
    const rx = await receiver();
    closeReceiver = rx.close;
    const r = await cli(['trace', '--patterns', 'saga-choreography', '--format', 'json', '--otlp', rx.url]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out) as { journeys: { traceId: string; spans: { name: string; service: string }[] }[] };
    const expected = printed.journeys.flatMap((j) => j.spans.map((s) => `${s.service}|${s.name}|${j.traceId}`)).sort();
    expect(expected.length).toBeGreaterThan(10);
    expect(rx.spans.map((s) => `${s.service}|${s.name}|${s.traceId}`).sort()).toEqual(expected);
    expect(new Set(rx.spans.map((s) => s.service))).toEqual(new Set(['client', 'broker', 'orders', 'payments', 'inventory', 'notifications']));
    expect(rx.paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
    expect(r.err).toContain(`otlp: ${expected.length} spans sent to ${rx.url}/v1/traces`);
  }, 60_000);

  it('an unreachable endpoint: one warning line, exit 0, the journeys printed all the same', async () => {
    const port = await closedPort();
    const r = await cli(['trace', '--patterns', 'rest', '--otlp', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('rest · confirmed');
    expect(r.out).toContain('rest · out-of-stock');
    const warnings = r.err.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^warning: --otlp http://127\\.0\\.0\\.1:${port}/v1/traces: 11 of 11 spans not delivered \\(.*ECONNREFUSED`));
  }, 60_000);

  it('refuses a bad --otlp or --scenario with exit 2 and one line, before tracing anything', async () => {
    const bad = await cli(['trace', '--otlp', 'ftp://x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('pattern-bench: invalid value for --otlp: "ftp://x" (expected an http:// or https:// URL of an OTLP/HTTP endpoint)\n');
    expect(bad.out).toBe('');
    const scenario = await cli(['trace', '--scenario', 'meteor']);
    expect(scenario.code).toBe(2);
    expect(scenario.err).toMatch(/^pattern-bench: unknown value for --scenario: "meteor" \(known: baseline,/);
  });
});

describe('run --trace-sample --otlp', () => {
  it('traces the asked share of the measured orders on the shared placement, reports what it cost, and exports every span kept', async () => {
    const rx = await receiver();
    closeReceiver = rx.close;
    const out = join(dir, 'sampled');
    const r = await cli(['run', '--quick', '--patterns', 'rest', '--rate', '300', '--trace-sample', '0.5', '--otlp', rx.url, '--out', out], 90_000);
    expect(r.code).toBe(0);
    const folder = join(out, readdirSync(out)[0] as string);
    const doc = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')) as ResultsDocument;
    const traces = doc.traces;
    expect(traces?.sample).toBe(0.5);
    // The journeys: traced before measuring, on the run's own placement, across threads.
    expect(traces?.journeys.map((j) => [j.pattern, j.outcome, j.placement, j.result?.status])).toEqual([
      ['rest', 'confirmed', 'shared', 'CONFIRMED'],
      ['rest', 'out-of-stock', 'shared', 'CANCELLED'],
    ]);
    // The compensated journey shows the compensation: the refund reached payments.
    expect(traces?.journeys[1]?.spans.map((s) => `${s.service} ${s.operation}`)).toContain('payments DELETE /charges');
    for (const j of traces?.journeys ?? []) expect(new Set(j.spans.map((s) => s.service)).size).toBeGreaterThanOrEqual(3);
    // 300 orders/s for 1 s (and its ramp), half of them traced: far from 0 and from all.
    const [overhead, ...more] = traces?.overhead ?? [];
    expect(more).toEqual([]);
    const measured = doc.runs[0]?.state === 'completed' ? doc.runs[0].throughput.offered : 0;
    expect(overhead?.tracedOrders).toBeGreaterThan(0.3 * 300);
    expect(overhead?.tracedOrders).toBeLessThan(0.7 * 330);
    expect(measured).toBeGreaterThan(0);
    // rest's confirmed order: client, orders, payments, inventory, notifications: ≥ 4 spans per traced order.
    expect(overhead?.spans).toBeGreaterThanOrEqual(4 * (overhead?.tracedOrders ?? 0));
    expect(overhead?.traced?.p50).toBeGreaterThan(0);
    expect(overhead?.untraced?.p50).toBeGreaterThan(0);
    // Every span kept reached the receiver, and results.json says so.
    expect(traces?.otlp).toMatchObject({ url: `${rx.url}/v1/traces`, failed: 0 });
    expect(rx.spans).toHaveLength(traces?.otlp?.exported ?? -1);
    const journeySpans = (traces?.journeys ?? []).reduce((n, j) => n + j.spans.length, 0);
    expect(rx.spans.length).toBeGreaterThanOrEqual(journeySpans + (overhead?.spans ?? 0));
    const report = readFileSync(join(folder, 'report.md'), 'utf8');
    expect(report).toContain('## Order journeys');
    expect(report).toContain('Tracing cost');
  }, 120_000);

  it('refuses --trace-sample outside 0..1 with exit 2 and one line', async () => {
    const r = await cli(['run', '--trace-sample', '1.5', '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('pattern-bench: invalid value for --trace-sample: "1.5" (expected a share from 0 to 1)\n');
    expect(readdirSync(dir)).not.toContain('never');
  });
});
