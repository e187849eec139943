import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { Runner } from '../src/bench/runner.js';
import { PATTERNS } from '../src/patterns/registry.js';
import type { Pattern } from '../src/patterns/types.js';

const quick = { quick: true, duration: 0.3, warmup: 0.1, out: false } as const;

describe('runner', () => {
  it('runs direct, emits typed events in order and checks the invariants', async () => {
    const runner = new Runner({ ...resolveRunConfig({ ...quick, patterns: 'direct', trials: 2 }), sequentialMs: 50 });
    const events: string[] = [];
    runner.on('run-start', (r) => events.push(`start ${r.pattern} ${r.trial}/${r.index}/${r.total}`));
    runner.on('phase', (p) => events.push(p.phase));
    runner.on('run-end', (r) => events.push(`end ${r.result.state}`));
    let done = 0;
    runner.on('done', () => done++);
    const doc = await runner.run();
    expect(events.slice(0, 9)).toEqual(['start direct 1/1/2', 'starting', 'warmup', 'load', 'sequential', 'check', 'stopping', 'end completed', 'start direct 2/2/2']);
    expect(done).toBe(1);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.state).toBe('completed');
    expect(doc.config.seed).toBe(42);
    expect(doc.runs).toHaveLength(2);
    for (const run of doc.runs) {
      expect(run.state).toBe('completed');
      if (run.state !== 'completed') continue;
      expect(run.invariants.ok).toBe(true);
      expect(run.outcomes.confirmed).toBeGreaterThan(0);
      expect(run.outcomes.cancelled).toBeGreaterThan(0);
      expect(run.sequential?.samples).toBeGreaterThan(0);
      expect(run.cost.cpuMicrosPerOrder).toBeGreaterThan(0);
      expect(run.cost.bytesPerOrder).toBeNull();
      // The warm-up ran at least --warmup, and the results say how long and what it saw.
      expect(run.warmup.warmupMs).toBeGreaterThanOrEqual(100);
      expect(run.warmup.slices.length).toBeGreaterThan(0);
    }
  });

  it('turns a pattern that throws into an errored result and goes on', async () => {
    const broken: Pattern = {
      id: 'broken',
      title: 'Broken',
      summary: 'fails to start',
      tradeOffs: { pros: [], cons: [], whenToUse: '' },
      start: async () => {
        throw Object.assign(new Error('port in use'), { code: 'EADDRINUSE' });
      },
    };
    const config = { ...resolveRunConfig({ ...quick, patterns: 'direct' }), patterns: ['broken', 'direct'] };
    const doc = await new Runner(config, [broken, ...PATTERNS]).run();
    expect(doc.runs.map((r) => r.state)).toEqual(['errored', 'completed']);
    const first = doc.runs[0];
    expect(first?.state === 'errored' && first.error).toEqual({ code: 'EADDRINUSE', message: 'port in use' });
  });

  it('marks the runs after an abort as aborted', async () => {
    const controller = new AbortController();
    const runner = new Runner(resolveRunConfig({ ...quick, patterns: 'direct', trials: 3 }));
    runner.on('run-end', () => controller.abort());
    const doc = await runner.run({ signal: controller.signal });
    expect(doc.state).toBe('aborted');
    expect(doc.runs.map((r) => r.state)).toEqual(['completed', 'aborted', 'aborted']);
  });
});
