import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { capacitySettleOptions, interleave, Runner, settleOptions } from '../src/bench/runner.js';
import { NoCapacityError } from '../src/errors.js';
import { PATTERNS } from '../src/patterns/registry.js';
import type { Pattern } from '../src/patterns/types.js';

const quick = { quick: true, duration: 0.3, warmup: 0.1, out: false } as const;

const broken: Pattern = {
  id: 'broken',
  title: 'Broken',
  summary: 'fails to start',
  tradeOffs: { pros: [], cons: [], whenToUse: '' },
  start: async () => {
    throw Object.assign(new Error('port in use'), { code: 'EADDRINUSE' });
  },
};

describe('runner', () => {
  it('capacity runs warm up until throughput settles, from 0.5 s up to 2.5 s, judged on two 200 ms slices against the two before; measured runs on 100 ms slices, from --warmup to their bound', () => {
    const config = resolveRunConfig({ out: false });
    if (config.load.kind !== 'equal') throw new Error('the default load model is equal load');
    expect(capacitySettleOptions(config.load, config)).toEqual({ minMs: 500, maxMs: 2500, sliceMs: 200, window: 2 });
    expect(settleOptions(config)).toEqual({ minMs: 500, maxMs: 2000, sliceMs: 100, window: 2 });
    const fast = resolveRunConfig({ out: false, quick: true });
    if (fast.load.kind !== 'equal') throw new Error('the default load model is equal load');
    expect(capacitySettleOptions(fast.load, fast)).toEqual({ minMs: 100, maxMs: 100, sliceMs: 100, window: 2 });
    expect(settleOptions(fast)).toEqual({ minMs: 300, maxMs: 400, sliceMs: 100, window: 2 });
  });

  it('equal load: direct\'s capacity first, then every trial open loop at 70% of it, with typed events in order', async () => {
    const runner = new Runner({ ...resolveRunConfig({ ...quick, patterns: 'direct', trials: 2 }), sequentialMs: 50 });
    const events: string[] = [];
    runner.on('run-start', (r) => events.push(`start ${r.stage} ${r.pattern} ${r.trial}/${r.index}/${r.total}`));
    runner.on('phase', (p) => events.push(p.phase));
    runner.on('equal-load', (e) => events.push(`equal-load ${e.rate}`));
    runner.on('run-end', (r) => events.push(`end ${r.result.state}`));
    let done = 0;
    runner.on('done', () => done++);
    const doc = await runner.run();
    const capacity = doc.capacity?.runs[0];
    expect(capacity?.state).toBe('completed');
    // The capacity run's invariants are checked and kept, as every run's are.
    expect(capacity?.invariants).toMatchObject({ ok: true, lost: 0, stuck: 0 });
    // Its warm-up is kept too: --quick's is one 100 ms slice (settling would take four).
    expect(capacity?.warmup?.slices.length).toBeGreaterThanOrEqual(1);
    expect(capacity?.warmup?.warmupMs).toBeGreaterThanOrEqual(100);
    const rate = Math.round(0.7 * (capacity?.achieved ?? 0));
    expect(rate).toBeGreaterThan(0);
    expect(doc.equalLoad).toEqual({ rate, source: 'capacity', fraction: 0.7, basis: { pattern: 'direct', capacity: capacity?.achieved } });
    expect(doc.capacity).toMatchObject({ concurrency: 16, durationMs: 300 });
    expect(events.slice(0, 13)).toEqual([
      'start capacity direct 1/1/3', 'starting', 'warmup', 'load', 'check', 'stopping', 'end completed',
      `equal-load ${rate}`,
      'start load direct 1/2/3', 'starting', 'warmup', 'load', 'sequential',
    ]);
    expect(events.filter((e) => e.startsWith('start '))).toEqual(['start capacity direct 1/1/3', 'start load direct 1/2/3', 'start load direct 2/3/3']);
    expect(done).toBe(1);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.state).toBe('completed');
    expect(doc.config.seed).toBe(42);
    expect(doc.runs).toHaveLength(2);
    for (const run of doc.runs) {
      expect(run.state).toBe('completed');
      if (run.state !== 'completed') continue;
      // Every measured run is open loop at the one rate.
      expect(run.throughput.target).toBe(rate);
      expect(run.invariants.ok).toBe(true);
      expect(run.outcomes.confirmed).toBeGreaterThan(0);
      expect(run.outcomes.cancelled).toBeGreaterThan(0);
      expect(run.sequential?.samples).toBeGreaterThan(0);
      expect(run.cost.cpuMicrosPerOrder).toBeGreaterThan(0);
      expect(run.cost.bytesPerOrder).toBeNull();
      // Every order started in the window is in the latency figures.
      expect(run.latencyMs.count).toBe(run.outcomes.placed);
      // The warm-up ran at least --warmup, and the results say how long and what it saw.
      expect(run.warmup.warmupMs).toBeGreaterThanOrEqual(100);
      expect(run.warmup.slices.length).toBeGreaterThan(0);
    }
  });

  it('equal load: a fault scenario runs open loop at the equal-load rate, as the baseline does', async () => {
    const runner = new Runner({ ...resolveRunConfig({ ...quick, patterns: 'direct', scenarios: 'baseline,outage' }), sequentialMs: 0 });
    const chosen: number[] = [];
    runner.on('equal-load', (e) => chosen.push(e.rate));
    const doc = await runner.run();
    // One capacity run, in the baseline, sets the one rate.
    expect(doc.capacity?.runs.map((r) => [r.pattern, r.state])).toEqual([['direct', 'completed']]);
    const rate = Math.round(0.7 * (doc.capacity?.runs[0]?.achieved ?? 0));
    expect(rate).toBeGreaterThan(0);
    expect(chosen).toEqual([rate]);
    expect(doc.equalLoad).toMatchObject({ rate, source: 'capacity', basis: { pattern: 'direct' } });
    expect(doc.runs.map((r) => [r.scenario, r.state])).toEqual([
      ['baseline', 'completed'],
      ['outage', 'completed'],
    ]);
    const [baseline, outage] = doc.runs;
    if (baseline?.state !== 'completed' || outage?.state !== 'completed') throw new Error('a run did not complete');
    expect(baseline.throughput.target).toBe(rate);
    expect(outage.throughput.target).toBe(rate);
    // The outage was played on this run: it is the fault scenario, not a second baseline.
    expect(baseline.failure).toBeNull();
    expect(outage.failure?.applied).toBe(true);
    expect(outage.failure?.played.length).toBeGreaterThan(0);
  });

  it('interleaves trials round-robin: trial 1 of every pattern, then trial 2, per scenario', () => {
    expect(interleave(['a', 'b'], ['s', 't'], 2).map((p) => `${p.scenario}:${p.pattern}${p.trial}`)).toEqual(['s:a1', 's:b1', 's:a2', 's:b2', 't:a1', 't:b1', 't:a2', 't:b2']);
  });

  it('--rate: no capacity phase, every run open loop at that rate, recorded as a fixed equal load', async () => {
    const doc = await new Runner(resolveRunConfig({ ...quick, patterns: 'direct', rate: 500 })).run();
    expect(doc.capacity).toBeUndefined();
    expect(doc.equalLoad).toEqual({ rate: 500, source: 'fixed', fraction: null, basis: null });
    const run = doc.runs[0];
    expect(run?.state === 'completed' && run.throughput.target).toBe(500);
  });

  it('--concurrency: no capacity phase and no equal load, a closed loop', async () => {
    const doc = await new Runner(resolveRunConfig({ ...quick, patterns: 'direct', concurrency: 4 })).run();
    expect(doc.capacity).toBeUndefined();
    expect(doc.equalLoad).toBeUndefined();
    const run = doc.runs[0];
    expect(run?.state === 'completed' && run.throughput.target).toBeNull();
  });

  it('equal load with no pattern that completed its capacity run throws NoCapacityError naming the failures', async () => {
    const config = { ...resolveRunConfig({ ...quick, patterns: 'direct' }), patterns: ['broken'] };
    await expect(new Runner(config, [broken]).run()).rejects.toThrow(
      new NoCapacityError(['broken: EADDRINUSE: port in use']),
    );
  });

  it('turns a pattern that throws into an errored result and goes on; equal load comes from the patterns that completed', async () => {
    const config = { ...resolveRunConfig({ ...quick, patterns: 'direct' }), patterns: ['broken', 'direct'] };
    const doc = await new Runner(config, [broken, ...PATTERNS]).run();
    expect(doc.capacity?.runs.map((r) => r.state)).toEqual(['errored', 'completed']);
    expect(doc.equalLoad?.basis?.pattern).toBe('direct');
    expect(doc.runs.map((r) => r.state)).toEqual(['errored', 'completed']);
    const first = doc.runs[0];
    expect(first?.state === 'errored' && first.error).toEqual({ code: 'EADDRINUSE', message: 'port in use' });
  });

  it('marks the runs after an abort as aborted', async () => {
    const controller = new AbortController();
    const runner = new Runner(resolveRunConfig({ ...quick, patterns: 'direct', trials: 3, concurrency: 4 }));
    runner.on('run-end', () => controller.abort());
    const doc = await runner.run({ signal: controller.signal });
    expect(doc.state).toBe('aborted');
    expect(doc.runs.map((r) => r.state)).toEqual(['completed', 'aborted', 'aborted']);
  });

  it('an abort during the capacity phase chooses no rate and marks every measured run aborted', async () => {
    const controller = new AbortController();
    const runner = new Runner(resolveRunConfig({ ...quick, patterns: 'direct', trials: 2 }));
    let chosen = 0;
    runner.on('equal-load', () => chosen++);
    runner.on('run-end', () => controller.abort());
    const doc = await runner.run({ signal: controller.signal });
    expect(doc.state).toBe('aborted');
    expect(doc.capacity?.runs.map((r) => r.state)).toEqual(['completed']);
    expect(chosen).toBe(0);
    expect(doc.equalLoad).toBeUndefined();
    expect(doc.runs.map((r) => r.state)).toEqual(['aborted', 'aborted']);
  });
});
