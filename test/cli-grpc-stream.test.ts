/**
 * grpc-stream is a selectable pattern outside the default set: `--patterns` accepts it, `list`
 * shows it unmarked, its card says what it measures and why it is not run by default.
 * Through the built binary (`npm run build`), as a user runs it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import type { ResultsDocument } from '../src/bench/results.js';
import { DEFAULT_PATTERNS, PATTERNS } from '../src/patterns/registry.js';
import { runBinary } from './support/cli.js';

/** The built binary, as a user runs it: it must exit by itself (no handle left open). */
const run = (args: string[], timeoutMs = 40_000) => runBinary(args, timeoutMs);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-grpc-stream-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the default set', () => {
  it('is every known pattern but grpc-stream, and is what --patterns means when it is not given', () => {
    expect(PATTERNS.map((p) => p.id)).toEqual(['direct', 'rest', 'grpc', 'grpc-stream', 'queue', 'event-sourcing', 'saga-choreography', 'saga-orchestration']);
    expect(DEFAULT_PATTERNS).toEqual(['direct', 'rest', 'grpc', 'queue', 'event-sourcing', 'saga-choreography', 'saga-orchestration']);
    expect(resolveRunConfig({ out: false }).patterns).toEqual(DEFAULT_PATTERNS);
    expect(resolveRunConfig({ patterns: 'grpc-stream', out: false }).patterns).toEqual(['grpc-stream']);
  });
});

describe('pattern-bench with grpc-stream (the built binary)', () => {
  it('list shows grpc-stream unmarked and marks every default pattern with *', async () => {
    const r = await run(['list']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('Patterns (* = run by default; the others only when --patterns names them):');
    expect(lines).toContain(`  ${'grpc-stream'.padEnd(20)} ${PATTERNS.find((p) => p.id === 'grpc-stream')?.summary ?? ''}`);
    for (const id of DEFAULT_PATTERNS) expect(lines.some((l) => l.startsWith(`* ${id.padEnd(20)} `)), id).toBe(true);
  });

  it('run --quick --patterns grpc,grpc-stream runs both: exit 0, a row each, invariants OK, and grpc-stream\'s card in report.md', async () => {
    const out = join(dir, 'both');
    const r = await run(['run', '--quick', '--patterns', 'grpc,grpc-stream', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/│ grpc\s+│ baseline │/);
    expect(r.out).toMatch(/│ grpc-stream\s+│ baseline │/);
    const folder = join(out, readdirSync(out)[0] as string);
    const doc = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.config.patterns).toEqual(['grpc', 'grpc-stream']);
    expect(doc.runs.map((x) => [x.pattern, x.state])).toEqual([
      ['grpc', 'completed'],
      ['grpc-stream', 'completed'],
    ]);
    for (const x of doc.runs) if (x.state === 'completed') expect(x.invariants.ok, x.pattern).toBe(true);
    // Both measured on the socket: the stream adds its call and an update per state.
    const wire = (id: string) => {
      const x = doc.runs.find((y) => y.pattern === id);
      return x?.state === 'completed' ? (x.cost.messagesPerOrder ?? 0) : 0;
    };
    expect(wire('grpc')).toBeGreaterThan(0);
    expect(wire('grpc-stream')).toBeGreaterThan(wire('grpc'));

    const card = doc.patterns?.find((p) => p.id === 'grpc-stream');
    expect(card?.title).toBe('gRPC StreamOrderUpdates (until the stream shows the terminal state)');
    expect(card?.summary).toBe(
      "The article's server-streaming StreamOrderUpdates on the grpc system: the client opens the stream, sends PlaceOrder; latency until the stream shows the terminal state.",
    );
    expect(card?.optIn).toMatch(/^Not in the default set: /);
    expect(doc.patterns?.find((p) => p.id === 'grpc')?.optIn).toBeUndefined();
    const md = readFileSync(join(folder, 'report.md'), 'utf8');
    expect(md).toContain('### gRPC StreamOrderUpdates (until the stream shows the terminal state) (`grpc-stream`)');
    expect(md).toContain(`*${card?.optIn ?? ''}*`);
  }, 60_000);

  it('an unknown pattern still exits 2 with one line naming every known pattern, grpc-stream among them', async () => {
    const r = await run(['run', '--quick', '--patterns', 'grpc,grpc-streams', '--out', join(dir, 'unknown')]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'pattern-bench: unknown value for --patterns: "grpc-streams" (known: direct, rest, grpc, grpc-stream, queue, event-sourcing, saga-choreography, saga-orchestration)\n',
    });
  });
});
