/** Time to recover and the failure table's figures, from constructed slices of a 4 s window with a fault from 1.4 s to 2.6 s. */
import { describe, expect, it } from 'vitest';
import { failureFigures } from '../src/bench/failure.js';
import type { LoadResult, SegmentResult } from '../src/bench/loadgen.js';
import { PlacedLog } from '../src/bench/placed.js';
import { recoveryOf, type RecoveryInput, type StartSlice } from '../src/bench/load/recovery.js';
import { LatencyHistogram } from '../src/metrics/histogram.js';
import type { SystemSnapshot } from '../src/workflow/services.js';

const SLICE_MS = 100;
const WINDOW_MS = 4000;
const FAULT = { fromMs: 1400, toMs: 2600 };

/** What the orders that started in one slice did: how many, how many failed, how long each took. */
interface SliceSpec {
  readonly placed: number;
  readonly failed?: number;
  /** Latency of every order, ms; default 4–6 ms, spread evenly. */
  readonly ms?: (i: number) => number;
}

const healthy: SliceSpec = { placed: 40 };
const down: SliceSpec = { placed: 40, failed: 40, ms: () => 1000 };
const usual = (i: number) => 4 + (i % 21) / 10;

/** 40 slices: `pick(i)` says what slice i (starting at i × 100 ms) did. */
function slices(pick: (i: number) => SliceSpec): StartSlice[] {
  return Array.from({ length: WINDOW_MS / SLICE_MS }, (_, i) => {
    const spec = pick(i);
    const latency = new LatencyHistogram();
    for (let k = 0; k < spec.placed; k++) latency.recordMs((spec.ms ?? usual)(k));
    return { atMs: i * SLICE_MS, placed: spec.placed, failed: spec.failed ?? 0, latency };
  });
}

/** A segment's figures from its slices, as the recorder would sum them. */
function segment(name: string, fromMs: number, toMs: number, all: readonly StartSlice[]): SegmentResult {
  const parts = all.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
  const latency = new LatencyHistogram();
  for (const s of parts) latency.add(s.latency);
  return { name, fromMs, toMs, latency: latency.summary(), placed: parts.reduce((n, s) => n + s.placed, 0), failed: parts.reduce((n, s) => n + s.failed, 0) };
}

/** The recovery input of a timeline where slices before the fault are healthy, those during it `during`, and after it `after(msAfterFault)`. */
function input(during: SliceSpec, after: (msAfterFault: number) => SliceSpec, overrides: Partial<RecoveryInput> = {}): RecoveryInput {
  const all = slices((i) => {
    const at = i * SLICE_MS;
    return at < FAULT.fromMs ? healthy : at < FAULT.toMs ? during : after(at - FAULT.toMs);
  });
  return {
    slices: all,
    sliceMs: SLICE_MS,
    windowMs: WINDOW_MS,
    fault: FAULT,
    before: segment('before', 0, FAULT.fromMs, all),
    during: segment('during', FAULT.fromMs, FAULT.toMs, all),
    applied: true,
    ...overrides,
  };
}

describe('time to recover', () => {
  it('is the time from the end of the fault to the first second that stays in the band', () => {
    // Still failing for 400 ms after the fault ends, then healthy to the end of the window.
    expect(recoveryOf(input(down, (ms) => (ms < 400 ? down : healthy)))).toEqual({ kind: 'recovered', ms: 400 });
    expect(recoveryOf(input(down, () => healthy))).toEqual({ kind: 'recovered', ms: 0 });
  });

  it('a bad slice inside the second is not averaged away', () => {
    // Healthy after the fault, except one slice of failures 200 ms in (2.8 s): the seconds
    // from 2.6 s and 2.7 s hold it (their success rate, 90 % and 90 %, alone would pass);
    // the first that does not starts after it.
    const r = recoveryOf(input(down, (ms) => (ms === 200 ? down : healthy)));
    expect(r).toEqual({ kind: 'recovered', ms: 300 });
  });

  it('needs the p99 back too, not just the successes', () => {
    // Every order succeeds after the fault, but for 300 ms they take 20 ms instead of ~5.
    const slow: SliceSpec = { placed: 40, ms: () => 20 };
    expect(recoveryOf(input(down, (ms) => (ms < 300 ? slow : healthy)))).toEqual({ kind: 'recovered', ms: 300 });
  });

  it('takes noise within one order of slack: an outlier or a few failures per slice', () => {
    // Before: all succeed, p99 ≈ 6 ms. After: every other slice has one order of 50 ms
    // (5 in a second of 400: its p99, the 5th slowest, is 50 ms; read one rank lower, ~6 ms),
    // and every third slice 5 of its 40 fail (35 + 1 of slack ≥ 0.9 × 40; the second: 96 %).
    const noisy = (failed: number, outlierEvery: number) => (ms: number): SliceSpec => {
      const i = ms / SLICE_MS;
      return { placed: 40, failed: i % 3 === 0 ? failed : 0, ms: (k) => (k === 0 && i % outlierEvery === 0 ? 50 : usual(k)) };
    };
    expect(recoveryOf(input(down, noisy(5, 2)))).toEqual({ kind: 'recovered', ms: 0 });
    // 6 of 40 is one too many for a slice; a slow order in every slice (2.5 %) is a slower p99.
    expect(recoveryOf(input(down, noisy(6, 2)))).toEqual({ kind: 'not-recovered' });
    expect(recoveryOf(input(down, noisy(5, 1)))).toEqual({ kind: 'not-recovered' });
  });

  it('the p99 band is at least 1 ms wide: sub-millisecond jitter is not a drop', () => {
    const fast = (ms: number): SliceSpec => ({ placed: 40, ms: () => ms });
    const all = slices((i) => fast(i * SLICE_MS < FAULT.fromMs ? 0.3 : 1.2));
    const r = recoveryOf({ ...input(healthy, () => healthy), slices: all, before: segment('before', 0, FAULT.fromMs, all), during: segment('during', FAULT.fromMs, FAULT.toMs, all) });
    expect(r).toEqual({ kind: 'never-dropped' });
  });

  it('a slice in which nothing started is a stall (a closed loop whose workers are stuck)', () => {
    const empty: SliceSpec = { placed: 0 };
    expect(recoveryOf(input(empty, (ms) => (ms < 200 ? empty : healthy)))).toEqual({ kind: 'recovered', ms: 200 });
  });

  it('never-dropped: the orders during the fault stayed in the band', () => {
    expect(recoveryOf(input(healthy, () => healthy))).toEqual({ kind: 'never-dropped' });
  });

  it('not-recovered: the window ends before a second in the band', () => {
    // Healthy again only 600 ms before the window ends.
    expect(recoveryOf(input(down, (ms) => (ms < 800 ? down : healthy)))).toEqual({ kind: 'not-recovered' });
  });

  it('whole-window: the fault reaches the window’s end or starts at its start; not-applied: it never reached the pattern', () => {
    expect(recoveryOf(input(down, () => down, { fault: { fromMs: 1400, toMs: WINDOW_MS } }))).toEqual({ kind: 'whole-window' });
    expect(recoveryOf(input(down, () => healthy, { fault: { fromMs: 0, toMs: 2600 }, before: undefined }))).toEqual({ kind: 'whole-window' });
    expect(recoveryOf(input(down, () => healthy, { fault: null }))).toEqual({ kind: 'whole-window' });
    expect(recoveryOf(input(down, () => healthy, { applied: false }))).toEqual({ kind: 'not-applied' });
  });
});

describe('failure figures', () => {
  const snapshot = { inventory: { reservations: [] }, payments: { ledger: [] } } as unknown as SystemSnapshot;

  /** A load result over the constructed slices: outcomes summed from them (the failed ones all `downstream_error`). */
  function load(r: RecoveryInput): LoadResult {
    const placed = r.slices.reduce((n, s) => n + s.placed, 0);
    const failed = r.slices.reduce((n, s) => n + s.failed, 0);
    const latency = new LatencyHistogram();
    for (const s of r.slices) latency.add(s.latency);
    return {
      placed: new PlacedLog(),
      reads: null,
      windowMs: WINDOW_MS,
      outcomes: { placed, confirmed: placed - failed - 10, cancelled: 10, failed, timedOut: 0 },
      errors: { downstream_error: failed },
      throughput: { target: null, offered: null, achieved: (placed - failed) / (WINDOW_MS / 1000) },
      completedInWindow: placed - failed,
      latency: latency.summary(),
      latencyHistogram: latency.encode(),
      failedLatency: null,
      acceptLatency: null,
      schedulerLateness: null,
      cost: { cpuMicrosPerOrder: null, eventLoopUtilization: 0 },
      timeline: [],
      timelineBucketMs: SLICE_MS,
      startSlices: r.slices,
      segments: [r.before, r.during].filter((s): s is SegmentResult => s !== undefined && 'name' in s),
      aborted: false,
    };
  }

  it('success rate, time to recover and its kind, together', () => {
    const r = input(down, (ms) => (ms < 400 ? down : healthy));
    const f = failureFigures(load(r), FAULT, { 'payments:reset': 3 }, snapshot, [], true);
    // 40 slices of 40 orders; the 12 during the fault and the 4 after it failed.
    expect(f.successRate).toBe((1600 - 16 * 40) / 1600);
    expect(f.recovery).toEqual({ kind: 'recovered', ms: 400 });
    expect(f.timeToRecoverMs).toBe(400);
    expect(f.errorsByKind).toEqual({ downstream_error: 640, 'hop payments:reset': 3 });
  });

  it('time to recover is 0 when it never dropped and null when it did not come back, lasted the window or was not applied', () => {
    const never = failureFigures(load(input(healthy, () => healthy)), FAULT, null, snapshot, [], true);
    expect([never.recovery, never.timeToRecoverMs]).toEqual([{ kind: 'never-dropped' }, 0]);
    const missed = failureFigures(load(input(down, () => down)), FAULT, null, snapshot, [], true);
    expect([missed.recovery, missed.timeToRecoverMs]).toEqual([{ kind: 'not-recovered' }, null]);
    const whole = failureFigures(load(input(down, () => down)), { fromMs: 1400, toMs: WINDOW_MS }, null, snapshot, [], true);
    expect([whole.recovery, whole.timeToRecoverMs]).toEqual([{ kind: 'whole-window' }, null]);
    const skipped = failureFigures(load(input(healthy, () => healthy)), FAULT, null, snapshot, [], false);
    expect([skipped.recovery, skipped.timeToRecoverMs]).toEqual([{ kind: 'not-applied' }, null]);
  });
});
