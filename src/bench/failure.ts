import type { PlayedAction } from './player.js';
import { isPackedSnapshot, type PackedSnapshot } from '../workflow/packed-snapshot.js';
import type { SystemSnapshot } from '../workflow/services.js';
import type { LoadResult, SegmentResult } from './loadgen.js';
import { recoveryOf } from './load/recovery.js';

/** How a run behaved under its scenario's faults: the failure table's figures. */
export interface FailureFigures {
  /** Orders of the window that reached a business outcome (confirmed or cancelled), 0..1. */
  readonly successRate: number;
  /** The disturbed part of the window, ms after it opened. */
  readonly faultWindowMs: { readonly fromMs: number; readonly toMs: number } | null;
  /** Latency and failures of the orders started before, during and after the fault. */
  readonly segments: readonly SegmentResult[];
  /**
   * `recovery` as a number: its `ms` when recovered, 0 when it never dropped, null
   * otherwise (not back within the window, nothing before or after the fault, not applied).
   */
  readonly timeToRecoverMs: number | null;
  /** Time to recover, with what it means (absent in older files: read timeToRecoverMs). */
  readonly recovery?: Recovery;
  /** Client-side failures and internal hop failures, by kind. */
  readonly errorsByKind: Readonly<Record<string, number>>;
  /** Compensating effects that ran: reservations released plus charges refunded. */
  readonly compensations: number;
  /** What the scenario did, and when. */
  readonly played: readonly PlayedAction[];
  /** false: nothing in the scenario reached this pattern (no hop matched, nothing to crash). */
  readonly applied: boolean;
}

/**
 * After the fault ends, the first moment from which success rate and p99 stay within 10% of
 * their pre-fault levels for at least 1 s (the rule in full: src/bench/load/recovery.ts):
 * - `recovered`: that moment, ms after the fault's end (`ms` may be 0: back at once);
 * - `never-dropped`: neither figure left its band during the fault;
 * - `not-recovered`: the window ended before it held for 1 s;
 * - `whole-window`: the fault lasted to the window's end (or began at its start), nothing to recover to or from;
 * - `not-applied`: the scenario did not reach this pattern.
 */
export type Recovery =
  | { readonly kind: 'recovered'; readonly ms: number }
  | { readonly kind: 'never-dropped' }
  | { readonly kind: 'not-recovered' }
  | { readonly kind: 'whole-window' }
  | { readonly kind: 'not-applied' };

/** Releases and refunds: the compensations the services recorded. */
export function compensationsOf(snapshot: SystemSnapshot | PackedSnapshot): number {
  if (!isPackedSnapshot(snapshot)) {
    return snapshot.inventory.reservations.filter((r) => r.state === 'released').length + snapshot.payments.ledger.filter((e) => e.kind === 'refund').length;
  }
  // Each string is once in the table: count the records naming that one.
  const count = (column: Int32Array, value: string) => {
    const index = snapshot.strings.indexOf(value);
    return index < 0 ? 0 : column.filter((v) => v === index).length;
  };
  return count(snapshot.inventory.state, 'released') + count(snapshot.payments.kind, 'refund');
}

/** A run's failure figures, from its load result, its fault window and the state after the drain. */
export function failureFigures(
  load: LoadResult,
  faultWindowMs: { fromMs: number; toMs: number } | null,
  hopErrors: Readonly<Record<string, number>> | null,
  snapshot: SystemSnapshot | PackedSnapshot,
  played: readonly PlayedAction[],
  applied: boolean,
): FailureFigures {
  const { placed, confirmed, cancelled } = load.outcomes;
  const errorsByKind: Record<string, number> = { ...load.errors };
  for (const [kind, n] of Object.entries(hopErrors ?? {})) errorsByKind[`hop ${kind}`] = n;
  const compensations = compensationsOf(snapshot);
  const recovery = recoveryOf({
    slices: load.startSlices,
    sliceMs: load.timelineBucketMs,
    windowMs: load.windowMs,
    fault: faultWindowMs,
    before: load.segments.find((s) => s.name === 'before'),
    during: load.segments.find((s) => s.name === 'during'),
    applied,
  });
  return {
    successRate: placed === 0 ? 0 : (confirmed + cancelled) / placed,
    faultWindowMs,
    segments: load.segments,
    timeToRecoverMs: recovery.kind === 'recovered' ? recovery.ms : recovery.kind === 'never-dropped' ? 0 : null,
    recovery,
    errorsByKind,
    compensations,
    played,
    applied,
  };
}
