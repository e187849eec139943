import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';

// The real binary, as a user runs it: it must exit by itself (no handle left open).
const BIN = resolve(import.meta.dirname, '../dist/src/cli.js');

function run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pattern-bench ${args.join(' ')} did not exit within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out, err });
    });
  });
}

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
    if (first?.state === 'completed') {
      expect(first.invariants.ok).toBe(true);
      expect(first.latencyMs.p999).toBeGreaterThanOrEqual(first.latencyMs.p99);
    }
    const md = readFileSync(join(folder, 'report.md'), 'utf8');
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

  it('open loop reports offered and achieved rate within 2%', async () => {
    const r = await run(['run', '--patterns', 'direct', '--scenarios', 'baseline', '--rate', '2000', '--duration', '2', '--warmup', '0.5', '--json', '--out', join(dir, 'rate')]);
    expect(r.code).toBe(0);
    const run0 = (JSON.parse(r.out) as ResultsDocument).runs[0];
    expect(run0?.state).toBe('completed');
    if (run0?.state !== 'completed') return;
    expect(run0.throughput.target).toBe(2000);
    expect(Math.abs((run0.throughput.achieved - 2000) / 2000)).toBeLessThan(0.02);
    expect(run0.schedulerLatenessMs?.count).toBeGreaterThan(0);
  });
});

describe('pattern-bench compare', () => {
  it('puts two runs side by side with the change between them', async () => {
    const a = join(dir, 'cmp-a');
    const b = join(dir, 'cmp-b');
    for (const [out, seed] of [
      [a, '1'],
      [b, '2'],
    ] as const) {
      const r = await run(['run', '--patterns', 'direct', '--scenarios', 'baseline', '--duration', '0.3', '--warmup', '0', '--seed', seed, '--out', out]);
      expect(r.code).toBe(0);
    }
    const file = (d: string) => join(d, readdirSync(d)[0] as string, 'results.json');
    const r = await run(['compare', file(a), file(b)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/direct \/ baseline\s+│\s+[\d,]+\s+│\s+[\d,]+\s+│\s+[+-]\d+\.\d%/);
    expect(r.out).toContain('OK');
  });
});

describe('Ctrl-C', () => {
  it('finishes the current run, writes the results marked aborted, and exits 130', async () => {
    const out = join(dir, 'sigint');
    const child = spawn(process.execPath, [BIN, 'run', '--patterns', 'direct', '--scenarios', 'baseline', '--trials', '3', '--duration', '30', '--warmup', '0', '--out', out], {
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
