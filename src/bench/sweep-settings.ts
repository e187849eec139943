/** How a sweep steps the offered rate: every figure of `pattern-bench sweep` in one place. */
export interface SweepSettings {
  /** The latency objective: a step whose p99 is above it is past the knee, ms. */
  readonly sloMs: number;
  /** Each step's measured window, ms. */
  readonly stepMs: number;
  /** Load at the step's rate before its window opens, ms (not recorded). */
  readonly rampMs: number;
  /** The closed loop that sets the scale of the first step: orders in flight, and its window, ms. */
  readonly probeConcurrency: number;
  readonly probeMs: number;
  /** The first step's rate, as a share of the probe's throughput. */
  readonly startFraction: number;
  /** Each step's rate is the last one's × this. */
  readonly factor: number;
  readonly maxSteps: number;
  /** The most one pattern's steps may take in all, ms: the sweep stops there and says so. */
  readonly budgetMs: number;
}

/** A step keeps up when it completes at least this share of the rate asked for. */
export const KEEPS_UP = 0.95;

/** The settings of a sweep: `--slo` and `--quick` are the knobs. */
export function sweepSettings(sloMs: number, quick: boolean): SweepSettings {
  return {
    sloMs,
    stepMs: quick ? 500 : 1000,
    rampMs: quick ? 100 : 200,
    probeConcurrency: 16,
    probeMs: quick ? 500 : 1000,
    startFraction: 0.25,
    factor: Math.SQRT2,
    maxSteps: 12,
    budgetMs: quick ? 12_000 : 25_000,
  };
}
