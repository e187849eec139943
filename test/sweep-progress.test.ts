/** `pattern-bench sweep`'s progress: a bar of steps on a terminal, its ETA from the time budget; plain lines without one. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../src/cli.js';
import { SweepProgress, type SweepBounds } from '../src/cli/sweep-command.js';
import { sweepSettings } from '../src/bench/sweep-settings.js';

/** `--quick`'s bounds: 12 steps (+1 between), a 12 s budget, 0.5 s probe, 0.1 s ramp + 0.5 s step, warm-up up to 0.6 s. */
const QUICK: SweepBounds = { ...sweepSettings(50, true), warmupMaxMs: 600 };
/** One pattern at most: 0.6 + 0.5 s before its steps, 12 + 0.6 s of steps. */
const PATTERN_MS = 600 + 500 + 12_000 + 600;

describe('SweepProgress', () => {
  it('bounds the steps by 13 a pattern and the time by each pattern’s warm-up, probe and budget, and gives back what a pattern left unused', () => {
    let now = 0;
    const p = new SweepProgress(2, QUICK, () => now);
    expect([p.steps, p.stepBound, p.etaBoundMs()]).toEqual([0, 26, 2 * PATTERN_MS]);
    p.patternStarted();
    now = 400; // warming up: 0.4 s of the 1.1 s before the steps gone
    expect([p.steps, p.stepBound, p.etaBoundMs()]).toEqual([0, 26, 700 + 12_600 + PATTERN_MS]);
    now = 2000; // a warm-up and probe longer than their bound: the steps' bound stays
    expect(p.etaBoundMs()).toBe(12_600 + PATTERN_MS);
    p.probed();
    now = 5000;
    for (let i = 0; i < 3; i++) p.stepped();
    expect([p.steps, p.stepBound, p.etaBoundMs()]).toEqual([3, 26, 12_600 - 3000 + PATTERN_MS]);
    now = 20_000; // past the budget and the step it allows: nothing left of this pattern
    expect(p.etaBoundMs()).toBe(PATTERN_MS);
    p.patternEnded();
    expect([p.steps, p.stepBound, p.etaBoundMs()]).toEqual([3, 3 + 13, PATTERN_MS]);
    p.patternStarted();
    p.probed();
    p.stepped();
    p.patternEnded();
    expect([p.steps, p.stepBound, p.etaBoundMs()]).toEqual([4, 4, 0]);
  });
});

describe('pattern-bench sweep in the terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-sweep-progress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllEnvs());

  /** A sweep of direct whose SLO (1 µs) its first step breaks: a probe and one step. */
  async function sweep(interactive: boolean): Promise<{ code: number; err: string }> {
    let err = '';
    const io: CliIo = { out: () => {}, err: (t) => (err += t), interactive };
    const code = await main(['sweep', '--quick', '--patterns', 'direct', '--slo', '0.001', '--out', dir], io);
    return { code, err };
  }

  /** The step's line (on a terminal after the escapes that clear the bar's line for it). */
  const STEP_LINE = / {2}direct [\d,]+\/s → [\d,]+\/s, p99 [\d.,]+ ms \((over the SLO|fell behind)\)\n/;

  it('draws a bar of steps on a terminal, green, with an ETA bounded by the time budget, the probe and step lines above it', async () => {
    vi.stubEnv('NO_COLOR', '');
    const r = await sweep(true);
    expect(r.code, r.err).toBe(0);
    // Before the first step: 13 steps at most, and at most 0.6 + 0.5 s of warm-up and probe (some gone by the first
    // redraw) and 12 + 0.6 s of steps (none gone yet): 14 s, or 13 once more than 0.7 s has passed.
    const first = /(?<cells>[█░]{30}) 0\/13 steps · ETA ≤ (?<eta>\d+) s · direct · warm-up and probe/.exec(r.err)?.groups;
    expect(first?.cells).toBe('░'.repeat(30));
    expect(['13', '14']).toContain(first?.eta);
    expect(r.err).toContain('[1/1] direct sweeping\n');
    expect(r.err).toMatch(/ {2}direct closed-loop probe: [\d,]+ orders\/s\n/);
    expect(r.err).toMatch(STEP_LINE);
    // Its one step was all it measured: the bound falls to it, nothing left.
    expect(r.err).toContain(`\x1b[32m${'█'.repeat(30)}\x1b[0m 1/1 steps · ETA ≤ 0 s · direct · completed`);
  }, 60_000);

  it('prints plain lines without a terminal: no bar, no escape', async () => {
    const r = await sweep(false);
    expect(r.code, r.err).toBe(0);
    const lines = r.err.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('[1/1] direct sweeping');
    expect(lines[1]).toMatch(/^ {2}direct closed-loop probe: [\d,]+ orders\/s$/);
    expect(`${lines[2]}\n`).toMatch(STEP_LINE);
    expect(lines[3]).toMatch(/^results written to /);
    expect(r.err).not.toMatch(/[█░]/);
    expect(r.err).not.toContain('\x1b');
  }, 60_000);
});
