import * as hdr from 'hdr-histogram-js';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  /** The largest value recorded, exact to the µs (the percentiles are HdrHistogram's, and never above it). */
  readonly max: number;
  readonly mean: number;
  readonly count: number;
  /**
   * How many of `count` are lower bounds: orders that timed out, recorded at their deadline.
   * They are the largest values, so the percentiles from rank count − lowerBounds up are
   * at least what they say (see atLeast). Absent in older files: 0.
   */
  readonly lowerBounds?: number;
}

/** Whether percentile `q` (0..100; 100 is max) of `s` is only a lower bound: it falls among the timed-out orders. */
export function atLeast(s: LatencySummary, q: number): boolean {
  const bounds = s.lowerBounds ?? 0;
  if (bounds === 0 || s.count === 0) return false;
  // The value at percentile q is the one of rank ceil(q/100 × count) (1-based).
  const rank = Math.max(1, Math.ceil((q / 100) * s.count));
  return rank > s.count - bounds;
}

const EMPTY: LatencySummary = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0, lowerBounds: 0 };

/**
 * A latency histogram recording microseconds with 3 significant digits (HdrHistogram, its
 * JavaScript implementation: nothing to free), from 1 µs up, resizing itself for longer
 * values. The maximum and the mean are kept exactly beside it; percentiles are clamped to
 * the maximum (HdrHistogram reports the top of a value's bucket, which can lie above it).
 */
export class LatencyHistogram {
  private readonly h = build();
  private maxUs = 0;
  private sumUs = 0;
  private bounds = 0;

  /** Record one duration given in milliseconds. */
  recordMs(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.h.recordValue(us);
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Record a duration that is only a lower bound (an order that timed out, at its deadline), ms. */
  recordLowerBoundMs(ms: number): void {
    this.recordMs(ms);
    this.bounds++;
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** How many of the values are lower bounds. */
  get lowerBounds(): number {
    return this.bounds;
  }

  /** The largest value, ms (0 when empty). */
  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /** Percentile `q` (0..100), ms, at most the maximum; 0 when empty. */
  percentileMs(q: number): number {
    if (this.h.totalCount === 0) return 0;
    return Math.min(this.h.getValueAtPercentile(q), this.maxUs) / 1000;
  }

  /** The value of rank `rank` (1-based, ascending), ms, at most the maximum; 0 when empty. */
  rankMs(rank: number): number {
    const n = this.h.totalCount;
    if (n === 0) return 0;
    // HdrHistogram finds the value of rank ceil(q/100 × n); half a rank below keeps float error off the edge.
    const q = (100 * (Math.min(Math.max(rank, 1), n) - 0.5)) / n;
    return Math.min(this.h.getValueAtPercentile(q), this.maxUs) / 1000;
  }

  /** Add every value of `other` (its lower bounds stay lower bounds). */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
    this.sumUs += other.sumUs;
    this.bounds += other.bounds;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  summary(): LatencySummary {
    const h = this.h;
    if (h.totalCount === 0) return EMPTY;
    return {
      ...percentiles(h, this.maxUs),
      max: this.maxUs / 1000,
      mean: Math.round(this.sumUs / h.totalCount) / 1000,
      count: h.totalCount,
      lowerBounds: this.bounds,
    };
  }

  /** The histogram in HdrHistogram's compressed base64 form (what mergeLatency reads; max and lower bounds travel in the summary). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }
}

/** 32-bit counts in plain JavaScript arrays (not WebAssembly: nothing to free by hand). */
function build(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true, bitBucketSize: 32, useWebAssembly: false });
}

function percentiles(h: hdr.Histogram, maxUs: number): Pick<LatencySummary, 'p50' | 'p90' | 'p99' | 'p999'> {
  const at = (q: number) => Math.round(Math.min(h.getValueAtPercentile(q), maxUs)) / 1000;
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9) };
}

/**
 * Several runs' latency as one: percentiles from their merged histograms (`encode()`),
 * max the largest of their exact maxima, and every percentile at most that; counts and
 * lower bounds summed, mean weighted by count. A part whose histogram is empty adds nothing.
 */
export function mergeLatency(parts: readonly { readonly histogram: string; readonly summary: LatencySummary }[]): LatencySummary {
  const live = parts.filter((p) => p.summary.count > 0);
  if (live.length === 0) return EMPTY;
  const merged = build();
  try {
    for (const part of live) {
      const decoded = hdr.decodeFromCompressedBase64(part.histogram, 32, false);
      try {
        merged.add(decoded);
      } finally {
        decoded.destroy();
      }
    }
    const max = Math.max(...live.map((p) => p.summary.max));
    const count = live.reduce((n, p) => n + p.summary.count, 0);
    return {
      ...percentiles(merged, Math.round(max * 1000)),
      max,
      mean: Math.round((live.reduce((a, p) => a + p.summary.mean * p.summary.count, 0) / count) * 1000) / 1000,
      count,
      lowerBounds: live.reduce((n, p) => n + (p.summary.lowerBounds ?? 0), 0),
    };
  } finally {
    merged.destroy();
  }
}
