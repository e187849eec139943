/**
 * Time to recover: after the fault ends, the first moment from which success rate and p99
 * stay within 10 % of their pre-fault levels for at least 1 s.
 *
 * Everything is read from the orders by their (intended) start: the slice an order started
 * in gets its outcome and its latency, whenever it finished. The rule, on the timeline's
 * slices (100 ms for windows up to 10 s):
 *
 * - Pre-fault levels: the success rate and the p99 of the `before` segment's orders.
 * - The band: success rate ≥ 0.9 × pre; p99 ≤ max(1.1 × pre, pre + 1 ms) — the 1 ms floor
 *   keeps sub-millisecond jitter (a GC pause, a timer tick) from counting as a drop.
 * - A stretch of slices is within the band when
 *   - each slice is, on its success rate alone: a share of failures means something among
 *     ~40 orders, so a bad slice anywhere fails the stretch (it is not averaged away);
 *   - the stretch as a whole is, on success rate and on p99: the p99 of a single slice of
 *     ~40 orders is just its slowest order, so the tail is judged on the whole stretch
 *     (~400 orders in a second: a burst of slow orders over 1 % of them shows);
 *   - every judgement allows one order of slack (one more failure, the p99 read one rank
 *     lower), so a lone outlier among a few dozen orders cannot fail a stretch by itself;
 *   - a slice in which no order started is a stall (a closed loop whose every worker is
 *     stuck starts nothing) when the pre-fault slices started at least 5 on average.
 * - Recovered at t: the first slice boundary t ≥ the fault's end such that the stretch of
 *   ⌈1 s / slice⌉ slices from t is within the band; `ms` = t − fault end.
 */
import { LatencyHistogram, type LatencySummary } from '../../metrics/histogram.js';
import type { Recovery } from '../failure.js';

/** The orders that started in one slice of the window, as recovery reads them. */
export interface StartSlice {
  /** Start of the slice, ms after the window opened. */
  readonly atMs: number;
  readonly placed: number;
  /** Of `placed`: failed (rejected, downstream error) or timed out. */
  readonly failed: number;
  /** Their latency, failed and timed-out orders included. */
  readonly latency: LatencyHistogram;
}

/** What a segment of the window says about its orders (a SegmentResult). */
export interface SegmentFigures {
  readonly placed: number;
  readonly failed: number;
  readonly latency: LatencySummary;
}

/** The rule's constants (see the module comment). */
export const RECOVERY_RULE = {
  /** How long the figures must stay in the band, ms. */
  holdMs: 1000,
  /** Success rate at least this share of the pre-fault rate. */
  successShare: 0.9,
  /** p99 at most this multiple of the pre-fault p99… */
  p99Factor: 1.1,
  /** …or the pre-fault p99 plus this, ms, whichever is larger. */
  p99FloorMs: 1,
  /** An empty slice is a stall when the pre-fault slices started at least this many orders on average. */
  stallMinPerSlice: 5,
} as const;

/** The band around the pre-fault levels. */
export interface Band {
  readonly minSuccess: number;
  readonly maxP99Ms: number;
  /** Pre-fault orders started per slice. */
  readonly perSlice: number;
}

/** The band around `before`'s levels; null when no order started before the fault. */
export function bandOf(before: SegmentFigures, beforeSlices: number): Band | null {
  if (before.placed === 0) return null;
  const success = (before.placed - before.failed) / before.placed;
  const p99 = before.latency.p99;
  return {
    minSuccess: RECOVERY_RULE.successShare * success,
    maxP99Ms: Math.max(RECOVERY_RULE.p99Factor * p99, p99 + RECOVERY_RULE.p99FloorMs),
    perSlice: before.placed / Math.max(1, beforeSlices),
  };
}

/** `placed` orders of which `failed` failed keep the success rate in the band, with one order of slack. */
export function successWithin(placed: number, failed: number, band: Band): boolean {
  return placed - failed + 1 >= band.minSuccess * placed;
}

/** The p99 of `latency`, read one rank lower (one order of slack), is in the band. */
export function p99Within(latency: LatencyHistogram, band: Band): boolean {
  const n = latency.count;
  if (n <= 1) return true;
  return latency.rankMs(Math.ceil(0.99 * n) - 1) <= band.maxP99Ms;
}

/** Whether a stretch of slices is within the band (see the module comment). */
export function stretchWithin(slices: readonly StartSlice[], band: Band): boolean {
  const stall = band.perSlice >= RECOVERY_RULE.stallMinPerSlice;
  let placed = 0;
  let failed = 0;
  const latency = new LatencyHistogram();
  for (const s of slices) {
    if (s.placed === 0 && stall) return false;
    if (!successWithin(s.placed, s.failed, band)) return false;
    placed += s.placed;
    failed += s.failed;
    latency.add(s.latency);
  }
  return successWithin(placed, failed, band) && p99Within(latency, band);
}

export interface RecoveryInput {
  /** The window's orders by start slice, in order (LoadResult.startSlices). */
  readonly slices: readonly StartSlice[];
  readonly sliceMs: number;
  readonly windowMs: number;
  /** The fault, ms after the window opened; null: none. */
  readonly fault: { readonly fromMs: number; readonly toMs: number } | null;
  /** The orders started before the fault, and those it disturbed (segments `before` and `during`). */
  readonly before: SegmentFigures | undefined;
  readonly during: SegmentFigures | undefined;
  /** Whether the scenario reached the pattern at all. */
  readonly applied: boolean;
}

/** Time to recover from the fault (see the module comment), with what it means. */
export function recoveryOf(input: RecoveryInput): Recovery {
  const { slices, sliceMs, windowMs, fault, before, during } = input;
  if (!input.applied) return { kind: 'not-applied' };
  if (!fault || fault.fromMs <= 0 || fault.toMs >= windowMs || !before) return { kind: 'whole-window' };
  const band = bandOf(before, Math.round(fault.fromMs / sliceMs));
  if (!band) return { kind: 'whole-window' };
  const inFault = slices.filter((s) => s.atMs >= fault.fromMs && s.atMs < fault.toMs);
  if (stretchWithin(inFault, band) && (!during || segmentWithin(during, band))) return { kind: 'never-dropped' };
  const hold = Math.ceil(RECOVERY_RULE.holdMs / sliceMs);
  for (let i = Math.ceil(fault.toMs / sliceMs - 1e-9); i + hold <= slices.length; i++) {
    if (stretchWithin(slices.slice(i, i + hold), band)) return { kind: 'recovered', ms: Math.max(0, i * sliceMs - fault.toMs) };
  }
  return { kind: 'not-recovered' };
}

/** A segment's orders as a whole (its summary: no slack on the p99) within the band. */
function segmentWithin(seg: SegmentFigures, band: Band): boolean {
  return successWithin(seg.placed, seg.failed, band) && seg.latency.p99 <= band.maxP99Ms;
}
