/**
 * Where an order falls in time: the measurement window, its slices (the timeline), the
 * segments of a fault scenario, the surges. Times are the clock's (ms); the specs' bounds
 * are ms after the window opens.
 */

/** How close to a window boundary (float rounding) a start counts as on it, ms. */
const EDGE_MS = 1e-6;

/** A part of the window to report on its own (LoadOptions.segments). */
export interface SegmentBounds {
  readonly fromMs: number;
  readonly toMs: number;
  readonly claimsOverlapping?: boolean;
}

/** A part of the window with a load multiplier (LoadOptions.surges). */
export interface SurgeBounds {
  readonly fromMs: number;
  readonly toMs: number;
  readonly multiplier: number;
}

/** About a hundred slices, none shorter than 100 ms, each a whole number of 100 ms. */
export function sliceMsFor(durationMs: number): number {
  return Math.max(100, Math.ceil(durationMs / 100 / 100) * 100);
}

export class LoadWindow {
  /** When the window opens and closes, on the clock. */
  readonly start: number;
  readonly end: number;
  /** The timeline's slice, ms. */
  readonly sliceMs: number;
  readonly slices: number;

  constructor(t0: number, warmupMs: number, readonly durationMs: number) {
    this.start = t0 + warmupMs;
    this.end = this.start + durationMs;
    this.sliceMs = sliceMsFor(durationMs);
    this.slices = Math.max(1, Math.ceil(durationMs / this.sliceMs));
  }

  /**
   * Whether time t lies in the window. Open-loop starts lie on a grid: a start that falls
   * on a boundary up to float rounding belongs to the window it opens, the same in every run.
   */
  inWindow(t: number): boolean {
    return t >= this.start - EDGE_MS && t < this.end - EDGE_MS;
  }

  /** The slice holding time t of the window (clamped to the first and last). */
  sliceOf(t: number): number {
    return Math.min(this.slices - 1, Math.max(0, Math.floor((t - this.start + EDGE_MS) / this.sliceMs)));
  }
}

/**
 * Which segment an order belongs to: the one its start lies in, except that an order whose
 * life reaches into a claiming segment (the fault) belongs to that one — it was disturbed.
 * Returns the segment's index, -1 for none.
 */
export function segmentOf(segments: readonly SegmentBounds[], windowStart: number, start: number, done: number): number {
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as SegmentBounds;
    if (seg.claimsOverlapping && start < windowStart + seg.toMs && done > windowStart + seg.fromMs) return i;
  }
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as SegmentBounds;
    if (start >= windowStart + seg.fromMs && start < windowStart + seg.toMs) return i;
  }
  return -1;
}

/** The load multiplier at time t: the product of the surges that cover it. */
export function multiplierAt(surges: readonly SurgeBounds[], windowStart: number, t: number): number {
  let m = 1;
  for (const s of surges) if (t >= windowStart + s.fromMs && t < windowStart + s.toMs) m *= s.multiplier;
  return m;
}
