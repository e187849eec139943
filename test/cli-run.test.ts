import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';
import { BIN, runBinary } from './support/cli.js';

/** The built binary, as a user runs it: it must exit by itself (no handle left open). */
const run = (args: string[], timeoutMs = 30_000) => runBinary(args, timeoutMs);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pattern-bench run (the built binary)', () => {
  it('--quick on direct prints the tables, writes results.json and report.md, and exits by itself', async () => {
    const out = join(dir, 'quick');
    const r = await run(['run', '--quick', '--patterns', 'direct', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('orders/s');
    expect(r.out).toMatch(/│ direct\s+│ baseline │/);
    expect(r.out).toContain('OK');
    const folders = readdirSync(out);
    expect(folders).toHaveLength(1); // no staging folder left behind
    const folder = join(out, folders[0] as string);
    const doc = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.schemaVersion).toBe(1);
    expect(doc.tool.name).toBe('pattern-bench');
    expect(doc.config.patterns).toEqual(['direct']);
    expect(doc.environment.node).toBe(process.version);
    const first = doc.runs[0];
    expect(first?.state).toBe('completed');
    // Capacity and equal-load latency are separate figures, and the header names the rate.
    const capacity = doc.capacity?.runs[0];
    expect(capacity?.state).toBe('completed');
    const rate = doc.equalLoad?.rate ?? 0;
    expect(rate).toBe(Math.round(0.7 * (capacity?.achieved ?? 0)));
    expect(r.out).toContain(`open loop at ${rate.toLocaleString('en-US')} orders/s`);
    if (first?.state === 'completed') {
      expect(first.invariants.ok).toBe(true);
      expect(first.throughput.target).toBe(rate);
      const l = first.latencyMs;
      expect([l.p50 <= l.p90, l.p90 <= l.p99, l.p99 <= l.p999, l.p999 <= l.max]).toEqual([true, true, true, true]);
      expect(l.count).toBe(first.outcomes.placed);
    }
    // Every line of the tables fits 100 columns.
    expect(r.out.split('\n').filter((l) => l.length > 100)).toEqual([]);
    // The charts: SVG files beside report.md, embedded in it by name, inlined in report.html.
    const svgs = readdirSync(folder).filter((f) => f.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThanOrEqual(4);
    const md = readFileSync(join(folder, 'report.md'), 'utf8');
    expect([...md.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]).sort()).toEqual(svgs.sort());
    const written = readFileSync(join(folder, 'report.html'), 'utf8');
    expect(written.match(/<svg[\s>]/g)?.length).toBeGreaterThanOrEqual(svgs.length);
    // Nothing the page loads comes from the network: no script from a URL, and outside the
    // inlined scripts (mermaid's bundle names URLs in its own code) no http(s) address at all
    // (SVG namespace declarations are names, not loads). test/browser.test.ts watches the requests.
    expect(written).not.toMatch(/<script[^>]*\ssrc=/);
    expect(written.replace(/<script>[\s\S]*?<\/script>/g, '').replace(/xmlns(:\w+)?="http[^"]*"/g, '')).not.toMatch(/https?:\/\//);
    expect(md).toContain('# pattern-bench report');
    expect(md).toContain('| pattern');
    expect(md).toContain('**When to use:**');

    const report = await run(['report', join(folder, 'results.json')]);
    expect(report.code).toBe(0);
    expect(report.out).toBe(md);
    const html = await run(['report', join(folder, 'results.json'), '--format', 'html', '--output', join(folder, 'report.html')]);
    expect(html.code).toBe(0);
    const page = readFileSync(join(folder, 'report.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<table>');
    expect(page).toContain('<h1>pattern-bench report</h1>');
  });

  it('--placement per-service runs the queue pattern\'s embedded broker and every service on threads of their own, and still exits by itself', async () => {
    const r = await run(['run', '--quick', '--patterns', 'queue', '--placement', 'per-service', '--duration', '0.5', '--json', '--out', join(dir, 'queue')]);
    expect(r.code).toBe(0);
    const first = (JSON.parse(r.out) as ResultsDocument).runs[0];
    expect(first?.state).toBe('completed');
    if (first?.state !== 'completed') return;
    expect(first.transport.broker).toMatch(/^pattern-bench embedded broker [\d.]+ \(embedded\)$/);
    expect(first.transport.placement).toBe('per-service');
    expect(first.threads.map((t) => [t.name, t.role, t.components])).toEqual([
      ['main', 'generator', []],
      ['broker', 'system', ['broker']],
      ['orders', 'system', ['orders']],
      ['inventory', 'system', ['inventory']],
      ['payments', 'system', ['payments']],
      ['notifications', 'system', ['notifications']],
    ]);
    // The broker moved every message of the run: its thread was busy, and the generator's CPU was counted apart.
    expect(first.threads.find((t) => t.name === 'broker')?.eventLoopUtilization).toBeGreaterThan(0);
    expect(first.cost.system.cpuMicrosPerOrder).toBeGreaterThan(0);
    expect(first.cost.generator.cpuMicrosPerOrder).toBeGreaterThan(0);
    expect(first.invariants.ok).toBe(true);
  });

  it('--json prints the results document on stdout', async () => {
    const r = await run(['run', '--quick', '--patterns', 'direct', '--duration', '0.3', '--warmup', '0', '--json', '--out', join(dir, 'json')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as ResultsDocument;
    expect(doc.runs).toHaveLength(1);
  });

  it('bad input exits 2 with one line and writes nothing', async () => {
    const out = join(dir, 'bad');
    const r = await run(['run', '--duration', '-1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('pattern-bench: invalid value for --duration: "-1" (expected a number of seconds > 0)\n');
    expect(r.out).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('--rate 1000 for 1 s starts exactly 1,000 orders in the window, every one of them in the latency figures', async () => {
    const r = await run(['run', '--patterns', 'direct', '--scenarios', 'baseline', '--rate', '1000', '--duration', '1', '--warmup', '0.2', '--json', '--out', join(dir, 'rate')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as ResultsDocument;
    expect(doc.capacity).toBeUndefined();
    const run0 = doc.runs[0];
    expect(run0?.state).toBe('completed');
    if (run0?.state !== 'completed') return;
    expect(run0.throughput.target).toBe(1000);
    // Starts lie on a grid: however late the scheduler ran, the window holds exactly rate × duration of them.
    expect(run0.outcomes.placed).toBe(1000);
    expect(run0.latencyMs.count).toBe(1000);
    expect(run0.schedulerLatenessMs?.count).toBe(1000);
  });

  it('--concurrency is a closed loop, and the tables warn that its latency has no coordinated-omission correction', async () => {
    const r = await run(['run', '--quick', '--patterns', 'direct', '--concurrency', '4', '--duration', '0.3', '--out', join(dir, 'closed')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('closed loop, 4 orders in flight');
    expect(r.out).toMatch(/coordinated.omission/i);
  });

  it('--threshold: exit 0 when every threshold holds, 3 when one fails, and the verdicts are in results.json', async () => {
    const common = ['run', '--quick', '--patterns', 'direct', '--rate', '200', '--duration', '0.3', '--warmup', '0'];
    const pass = await run([...common, '--threshold', 'direct.lost==0', '--threshold', '*.achieved>=1/s', '--json', '--out', join(dir, 'th-pass')]);
    expect(pass.code).toBe(0);
    const verdicts = (JSON.parse(pass.out) as ResultsDocument).thresholds;
    expect(verdicts?.map((v) => [v.expression, v.pass])).toEqual([
      ['direct.lost==0', true],
      ['*.achieved>=1/s', true],
    ]);
    const fail = await run([...common, '--threshold', 'direct.p99<0.001ms', '--out', join(dir, 'th-fail')]);
    expect(fail.code).toBe(3);
    expect(fail.out).toMatch(/direct\.p99<0\.001ms.*FAIL/);
  });

  it('--threshold with a malformed expression exits 2 with one line, runs nothing and writes nothing', async () => {
    const out = join(dir, 'th-bad');
    const r = await run(['run', '--quick', '--patterns', 'direct', '--threshold', 'direct.p99<<20ms', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^pattern-bench: invalid value for --threshold: "direct\.p99<<20ms" \(expected [^\n]+\)\n$/);
    expect(r.out).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});

describe('pattern-bench sweep', () => {
  it('--quick on direct prints its curve and its knee, and writes them into results.json', async () => {
    const out = join(dir, 'sweep');
    // An SLO far above direct's latency even on a busy machine: the curve has steps before it stops.
    const r = await run(['sweep', '--quick', '--patterns', 'direct', '--slo', '200', '--out', out], 60_000);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, readdirSync(out)[0] as string, 'results.json'), 'utf8')) as ResultsDocument;
    const curve = doc.sweep?.curves[0];
    expect(curve?.state).toBe('completed');
    expect(curve?.steps.length).toBeGreaterThan(1);
    expect(doc.sweep?.sloMs).toBe(200);
    expect(r.out).toContain('← knee');
    if (curve?.knee) expect(r.out).toContain(curve.knee.toLocaleString('en-US'));
  }, 70_000);
});

describe('pattern-bench compare', () => {
  const file = (d: string) => join(d, readdirSync(d)[0] as string, 'results.json');

  it('two --trials 3 runs of one config: every figure of the comparison is "~" or a p-value below 0.05', async () => {
    const a = join(dir, 'cmp3-a');
    const b = join(dir, 'cmp3-b');
    for (const out of [a, b]) {
      const r = await run(['run', '--patterns', 'direct', '--scenarios', 'baseline', '--rate', '500', '--duration', '0.3', '--warmup', '0', '--trials', '3', '--out', out]);
      expect(r.code).toBe(0);
    }
    const r = await run(['compare', file(a), file(b)]);
    expect(r.code).toBe(0);
    // 3 + 3 trials cannot reach p < 0.05: the comparison says "~" for every figure, and why.
    expect(r.out.match(/│\s+~\s+│/g)?.length).toBe(3);
    expect(r.out).toMatch(/smallest possible p/);
    expect(r.out).toMatch(/same machine, Node and config|outDir/);
  }, 60_000);

  it('runs of different configs: prints what differs and refuses without --force (exit 2)', async () => {
    const a = join(dir, 'cmpd-a');
    const b = join(dir, 'cmpd-b');
    for (const [out, rate] of [
      [a, '300'],
      [b, '400'],
    ] as const) {
      const r = await run(['run', '--patterns', 'direct', '--scenarios', 'baseline', '--rate', rate, '--duration', '0.3', '--warmup', '0', '--out', out]);
      expect(r.code).toBe(0);
    }
    const refused = await run(['compare', file(a), file(b)]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^pattern-bench: .*different configs \(load\.rate\).*--force/);
    const forced = await run(['compare', '--force', file(a), file(b)]);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('load.rate: 300 → 400');
  }, 60_000);
});

describe('Ctrl-C', () => {
  it('finishes the current run, writes the results marked aborted, and exits 130', async () => {
    const out = join(dir, 'sigint');
    const child = spawn(process.execPath, [BIN, 'run', '--patterns', 'direct', '--scenarios', 'baseline', '--trials', '3', '--concurrency', '10', '--duration', '30', '--warmup', '0', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // Interrupt once the first run is under way.
    await new Promise<void>((resolve) => {
      const check = () => (err.includes('starting') ? setTimeout(resolve, 300) : setTimeout(check, 50));
      check();
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(err).toContain('interrupted');
    const folder = join(out, readdirSync(out)[0] as string);
    const doc = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.state).toBe('aborted');
    expect(doc.runs.map((r) => r.state)).toEqual(['aborted', 'aborted', 'aborted']);
  }, 20_000);
});
