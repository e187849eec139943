/**
 * What the load generator records about its orders: every histogram, outcome, error and
 * slice count, from one place (`record`). Everything is allocated before the window opens.
 */
import { describeError } from '../../errors.js';
import { LatencyHistogram, type LatencySummary } from '../../metrics/histogram.js';
import type { OrderOutcome } from '../../workflow/types.js';
import type { StartSlice } from './recovery.js';
import { segmentOf, type LoadWindow, type SegmentBounds } from './window.js';

/** One order on its way: when it should have started, and whether the window measures it. */
export class InFlight {
  /** The window's orders not recorded yet form a list (no set to keep up, nothing kept once recorded). */
  prev: InFlight | undefined = undefined;
  next: InFlight | undefined = undefined;
  /** Recorded already (an answer, an error, or the drain deadline). */
  recorded = false;

  constructor(
    /** Intended start, on the clock. */
    readonly intended: number,
    /** Where its latency counts from: the intended start, or (without coordinated-omission correction) when it was sent. */
    readonly from: number,
    /** It started in the window. */
    readonly measured: boolean,
  ) {}
}

/** How an order ended: an answer, an error, or still nothing when the drain timeout ran out. */
export type Settlement =
  | { readonly kind: 'outcome'; readonly outcome: OrderOutcome }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' };

interface SegmentTally {
  readonly spec: SegmentBounds & { readonly name: string };
  readonly latency: LatencyHistogram;
  placed: number;
  failed: number;
}

interface SliceTally {
  /** By completion time: orders that reached a business outcome, and failures. */
  completed: number;
  failed: number;
  /** By start time. */
  started: number;
  startedFailed: number;
  readonly latency: LatencyHistogram;
}

export class Recorder {
  readonly latency = new LatencyHistogram();
  readonly failedLatency = new LatencyHistogram();
  readonly acceptLatency = new LatencyHistogram();
  /** Open loop: how late each order of the window was sent behind its intended start. */
  readonly lateness = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  /** Orders started in the window. */
  placed = 0;
  confirmed = 0;
  cancelled = 0;
  failed = 0;
  timedOut = 0;
  /** Orders that reached a business outcome inside the window, whenever they started. */
  completedInWindow = 0;
  /** The window's orders not recorded yet, newest first: what is left when the drain ends timed out. */
  private pending: InFlight | undefined;
  private readonly slices: SliceTally[];
  private readonly segments: SegmentTally[];
  private readonly specs: readonly SegmentBounds[];
  private closed = false;

  constructor(
    private readonly window: LoadWindow,
    segments: readonly (SegmentBounds & { readonly name: string })[],
  ) {
    this.slices = Array.from({ length: window.slices }, () => ({
      completed: 0,
      failed: 0,
      started: 0,
      startedFailed: 0,
      latency: new LatencyHistogram(),
    }));
    this.segments = segments.map((spec) => ({ spec, latency: new LatencyHistogram(), placed: 0, failed: 0 }));
    this.specs = segments;
  }

  /** An order is sent: `intended` its intended start, `from` where its latency counts from. */
  start(intended: number, from: number): InFlight {
    const order = new InFlight(intended, from, this.window.inWindow(intended));
    if (order.measured) {
      this.placed++;
      order.next = this.pending;
      if (this.pending) this.pending.prev = order;
      this.pending = order;
    }
    return order;
  }

  /** The timeline's slice, ms. */
  get sliceMs(): number {
    return this.window.sliceMs;
  }

  /** Whether results are final (the drain is over): later settlements change nothing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** How `order` ended, at `done` on the clock: the one place every figure is counted. */
  record(order: InFlight, settlement: Settlement, done: number): void {
    if (this.closed || order.recorded) return;
    order.recorded = true;
    if (order.measured) this.unlink(order);
    const outcome = settlement.kind === 'outcome' ? settlement.outcome : undefined;
    const ok = outcome !== undefined && outcome.reason !== 'downstream_error';
    if (settlement.kind !== 'timeout' && this.window.inWindow(done)) this.countCompletion(ok, done);
    if (!order.measured) return;
    const ms = done - order.from;
    this.tally(order, ok, ms, settlement.kind === 'timeout', done);
    if (outcome?.acceptedAt !== undefined) this.acceptLatency.recordMs(outcome.acceptedAt - order.from);
    if (ok) {
      if (outcome.status === 'CONFIRMED') this.confirmed++;
      else this.cancelled++;
      return;
    }
    if (settlement.kind === 'timeout') {
      this.timedOut++;
      return;
    }
    this.failed++;
    const code = settlement.kind === 'error' ? describeError(settlement.error).code : 'downstream_error';
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** The drain timeout ran out at `now`: every order of the window still in flight is recorded there, a lower bound. Closes the record. */
  expire(now: number): void {
    const timeout: Settlement = { kind: 'timeout' };
    while (this.pending) this.record(this.pending, timeout, now);
    this.closed = true;
  }

  /** Per slice: completed and failed by completion time, the p99 of the orders that started in it. */
  timeline(): { atMs: number; completed: number; failed: number; p99Ms: number | null }[] {
    return this.slices.map((s, i) => ({
      atMs: i * this.window.sliceMs,
      completed: s.completed,
      failed: s.failed,
      p99Ms: s.latency.count > 0 ? Math.round(s.latency.percentileMs(99) * 1000) / 1000 : null,
    }));
  }

  /** The window's orders by start slice, for the time to recover. */
  startSlices(): StartSlice[] {
    return this.slices.map((s, i) => ({ atMs: i * this.window.sliceMs, placed: s.started, failed: s.startedFailed, latency: s.latency }));
  }

  segmentResults(): { name: string; fromMs: number; toMs: number; latency: LatencySummary; placed: number; failed: number }[] {
    return this.segments.map(({ spec, latency, placed, failed }) => ({ name: spec.name, fromMs: spec.fromMs, toMs: spec.toMs, latency: latency.summary(), placed, failed }));
  }

  private unlink(order: InFlight): void {
    if (order.prev) order.prev.next = order.next;
    else this.pending = order.next;
    if (order.next) order.next.prev = order.prev;
    order.prev = order.next = undefined;
  }

  private countCompletion(ok: boolean, done: number): void {
    const slice = this.slices[this.window.sliceOf(done)] as SliceTally;
    if (ok) {
      slice.completed++;
      this.completedInWindow++;
    } else {
      slice.failed++;
    }
  }

  /** The latency histograms of the window, of its segment and of its start slice. */
  private tally(order: InFlight, ok: boolean, ms: number, lowerBound: boolean, done: number): void {
    put(this.latency, ms, lowerBound);
    if (!ok) put(this.failedLatency, ms, lowerBound);
    const slice = this.slices[this.window.sliceOf(order.intended)] as SliceTally;
    slice.started++;
    if (!ok) slice.startedFailed++;
    put(slice.latency, ms, lowerBound);
    if (this.segments.length === 0) return;
    const seg = this.segments[segmentOf(this.specs, this.window.start, order.intended, done)];
    if (!seg) return;
    seg.placed++;
    if (!ok) seg.failed++;
    put(seg.latency, ms, lowerBound);
  }

}

function put(h: LatencyHistogram, ms: number, lowerBound: boolean): void {
  if (lowerBound) h.recordLowerBoundMs(ms);
  else h.recordMs(ms);
}
