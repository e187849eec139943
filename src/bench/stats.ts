/** The median of a set of trials and a distribution-free confidence interval for it. */
export interface MedianEstimate {
  readonly median: number;
  /** Bounds of the interval: order statistics of the trials. */
  readonly low: number;
  readonly high: number;
  /** The interval's actual coverage (≥ 0.95 from 6 trials on; less with fewer). */
  readonly confidence: number;
  readonly n: number;
}

/**
 * Median with the order-statistic confidence interval (binomial, no normality assumed):
 * the narrowest symmetric [x(k), x(n+1-k)] covering the median with probability ≥ 95%,
 * or [min, max] with its real coverage when there are too few trials for 95%.
 */
export function medianWithCi(values: readonly number[]): MedianEstimate | null {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
  // Coverage of [x(k), x(n+1-k)] (1-based) is 1 - 2·P(Bin(n, ½) ≤ k-1).
  let k = 1;
  let coverage = 1 - 2 * binomCdf(n, 0);
  while (k + 1 <= Math.floor((n + 1) / 2)) {
    const next = 1 - 2 * binomCdf(n, k);
    if (next < 0.95) break;
    k++;
    coverage = next;
  }
  return { median, low: xs[k - 1] as number, high: xs[n - k] as number, confidence: coverage, n };
}

/** P(X ≤ k) for X ~ Binomial(n, ½). */
function binomCdf(n: number, k: number): number {
  let term = Math.pow(0.5, n); // C(n,0)/2^n
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}
