import type { LatencySummary } from '../../metrics/histogram.js';
import type { RunningPattern } from '../types.js';

/** Figures only an event-sourced pattern has (cumulative since the pattern started). */
export interface ProjectionStats {
  /** Which store: `memory` or `postgres`. */
  readonly eventStore: string;
  /** Projection lag: from the append call to the event applied to the read model, ms. */
  readonly projectionLagMs: LatencySummary;
  /** Orders whose PlaceOrder command was appended (warm-up and sequential phases included). */
  readonly orders: number;
  /** Appends refused for a wrong expected version (optimistic concurrency conflicts). */
  readonly conflicts: number;
  /** Commands re-run after a conflict (stream re-read, decision re-made). */
  readonly retries: number;
  /** Per 1,000 orders (null before any order). */
  readonly conflictsPer1000Orders: number | null;
  readonly retriesPer1000Orders: number | null;
  /** Commands that gave up after too many conflicts (each leaves an order stuck). */
  readonly conflictRetriesExhausted: number;
  readonly eventsAppended: number;
  readonly snapshotsSaved: number;
  /** Times the projection restarted from its checkpoint (crash or lost subscription). */
  readonly projectionRestarts: number;
  /** Redelivered events the read model absorbed by stream version. */
  readonly projectionDuplicates: number;
  /** Times each processor (payments, inventory, notifications) resubscribed from its checkpoint (crash or lost subscription). */
  readonly processorRestarts: Readonly<Record<string, number>>;
}

export interface ProjectionStatsReporter {
  projectionStats(): Promise<ProjectionStats>;
}

export function isProjectionStatsReporter(p: RunningPattern): p is RunningPattern & ProjectionStatsReporter {
  return typeof (p as Partial<ProjectionStatsReporter>).projectionStats === 'function';
}
