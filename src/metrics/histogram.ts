import * as hdr from 'hdr-histogram-js';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
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

/**
 * A latency histogram recording microseconds with 3 significant digits (HdrHistogram),
 * from 1 µs up, resizing itself for longer values.
 */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });

  /** Record one duration given in milliseconds. */
  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummary {
    const h = this.h;
    if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
      mean: Math.round(h.mean) / 1000,
      count: h.totalCount,
    };
  }
}
