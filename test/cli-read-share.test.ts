/** `pattern-bench run --read-share` with the built binary: reads for every pattern, in results.json and the tables, invariants intact. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsDocument } from '../src/bench/results.js';
import { runBinary } from './support/cli.js';

/** The built binary, as a user runs it: it must exit by itself (no handle left open). */
const run = (args: string[], timeoutMs = 60_000) => runBinary(args, timeoutMs);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-reads-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pattern-bench run --read-share (the built binary)', () => {
  it('--quick --patterns rest,queue,event-sourcing --read-share 0.5 records reads and read-your-writes for each, keeps the invariants and shows the read columns', async () => {
    const out = join(dir, 'mixed');
    const r = await run(['run', '--quick', '--patterns', 'rest,queue,event-sourcing', '--read-share', '0.5', '--out', out]);
    expect(r.code).toBe(0);
    const folder = join(out, readdirSync(out)[0] as string);
    const doc = JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')) as ResultsDocument;
    expect(doc.config.readShare).toBe(0.5);
    const measured = doc.runs.filter((run) => run.pattern === 'rest' || run.pattern === 'queue' || run.pattern === 'event-sourcing');
    expect(measured.map((run) => run.pattern).sort()).toEqual(['event-sourcing', 'queue', 'rest']);
    for (const run of measured) {
      expect(run.state).toBe('completed');
      if (run.state !== 'completed') continue;
      expect(run.reads?.perSecond).toBeGreaterThan(0);
      expect(run.reads?.placed).toBeGreaterThan(0);
      expect(run.reads?.latencyMs.count).toBeGreaterThan(0);
      expect(run.invariants.ok).toBe(true);
      // Every completed order of the window was read back; the write-side readers never saw one stale.
      const c = run.reads?.consistency;
      expect(c?.checked).toBe(run.outcomes.confirmed + run.outcomes.cancelled);
      expect(c?.timeToConsistencyMs.count).toBe((c?.checked ?? 0) - (c?.unresolved ?? 0));
      if (run.pattern !== 'event-sourcing') expect(c).toMatchObject({ stale: 0, unresolved: 0 });
    }
    expect(r.out).toContain("Reads of a customer's orders");
    // The reads table, split to fit 100 columns: rest's stale reads and time to consistency are 0.
    expect(r.out).toMatch(/reads\/s .* p50 ms .* p99 ms .* failed/);
    expect(r.out).toMatch(/│\s+stale │/);
    expect(r.out).toMatch(/│ TTC p50\/p99\/max │/);
    expect(r.out).toMatch(/│ rest\s+│ baseline │.*│\s+0% of [\d,]+ │/);
    expect(r.out).toMatch(/│ rest\s+│ baseline │\s+(.*│\s+)?0 \/ 0 \/ 0 │/);
    expect(r.out).toMatch(/│ rest\s+│ baseline │\s+[\d,]+ │/);
    expect(r.out).toContain('Reads: 50% of the measured operations');
    const report = readFileSync(join(folder, 'report.md'), 'utf8');
    expect(report).toContain('read p99.9 ms');
    expect(report).toContain('TTC p50/p99/max ms');
  }, 90_000);
});
