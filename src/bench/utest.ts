/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided: how benchstat decides whether
 * two sets of trials differ. It compares ranks, not means, so one slow trial moves it no
 * more than any other trial, and it assumes no distribution.
 */

/** U of the first sample and the two-sided p-value. */
export interface UTestResult {
  /** Pairs (x of `a`, y of `b`) with x > y, ties counting ½: scipy's U1. */
  readonly u: number;
  readonly p: number;
}

/**
 * Largest combined sample size whose exact distribution is counted (as benchstat does for
 * small samples); beyond it, and whenever there are ties, the normal approximation.
 */
const EXACT_MAX_N = 50;

/**
 * Mann–Whitney U test of `a` against `b`, two-sided. Exact (counted) distribution when
 * there are no ties and n1 + n2 ≤ 50; otherwise the normal approximation with tie
 * correction and continuity correction (scipy's `mannwhitneyu` with method `asymptotic`).
 * Values must be finite. An empty sample gives no evidence: p = 1.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): UTestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1 };
  const { rankSumA, tieGroups } = rank(a, b);
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  // The distribution of U is symmetric about n1·n2/2: take the upper tail of the larger U.
  const upper = Math.max(u, n1 * n2 - u);
  if (tieGroups.length === 0 && n1 + n2 <= EXACT_MAX_N) {
    const counts = uCounts(n1, n2);
    let tail = 0;
    let total = 0;
    for (let k = 0; k < counts.length; k++) {
      const c = counts[k] as number;
      total += c;
      if (k >= upper) tail += c;
    }
    return { u, p: Math.min(1, (2 * tail) / total) };
  }
  const n = n1 + n2;
  const tieTerm = tieGroups.reduce((acc, t) => acc + (t * t * t - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  // Every value equal: nothing to tell the samples apart.
  if (variance <= 0) return { u, p: 1 };
  const z = Math.max(0, (upper - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance));
  return { u, p: Math.min(1, erfc(z / Math.SQRT2)) };
}

/**
 * The smallest two-sided p-value samples of these sizes can give (complete separation,
 * no ties): 2 / C(n1 + n2, n1). 3 vs 3 gives 0.1, so three trials a side can never show
 * a difference at p < 0.05; 4 vs 4 gives 0.029, 5 vs 5 0.008.
 */
export function smallestP(n1: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 1;
  // C(n1 + n2, n1) as a running product, exact in doubles for every size we meet.
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}

/** Rank sum of `a` in the pooled sample (ties get their mean rank) and the size of each tie group. */
function rank(a: readonly number[], b: readonly number[]): { rankSumA: number; tieGroups: number[] } {
  const pooled = [...a.map((v) => ({ v, fromA: true })), ...b.map((v) => ({ v, fromA: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  const tieGroups: number[] = [];
  for (let i = 0; i < pooled.length; ) {
    let j = i + 1;
    while (j < pooled.length && (pooled[j] as { v: number }).v === (pooled[i] as { v: number }).v) j++;
    // Positions i..j-1 (0-based) share ranks i+1..j: their mean.
    const meanRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if ((pooled[k] as { fromA: boolean }).fromA) rankSumA += meanRank;
    if (j - i > 1) tieGroups.push(j - i);
    i = j;
  }
  return { rankSumA, tieGroups };
}

/**
 * How many of the C(n1 + n2, n1) orderings give each U = 0..n1·n2, without ties.
 * The largest value overall is either from the first sample (it beats all n2 of the
 * second: U grows by n2) or from the second (U unchanged), so
 * f(i, j, k) = f(i − 1, j, k − j) + f(i, j − 1, k). Additions only: no cancellation.
 */
function uCounts(n1: number, n2: number): number[] {
  // prev[j]: the distribution for (i − 1, j); with no first-sample values U is always 0.
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let i = 1; i <= n1; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= n2; j++) {
      const out = new Array<number>(i * j + 1).fill(0);
      const left = cur[j - 1] as number[];
      const up = prev[j] as number[];
      for (let k = 0; k < left.length; k++) out[k] = (out[k] as number) + (left[k] as number);
      for (let k = 0; k < up.length; k++) out[k + j] = (out[k + j] as number) + (up[k] as number);
      cur.push(out);
    }
    prev = cur;
  }
  return prev[n2] as number[];
}

/**
 * Complementary error function, Numerical Recipes' Chebyshev fit (`erfcc`): fractional
 * error below 1.2e-7 everywhere, ample for a p-value printed to three places.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
