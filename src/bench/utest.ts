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
 * Largest combined sample sizes whose exact distribution is counted, as benchstat does
 * (golang.org/x/perf's MannWhitneyExactLimit and MannWhitneyTiesExactLimit): 50 without
 * ties, 25 with. Beyond them, the normal approximation.
 */
const EXACT_MAX_N = 50;
const EXACT_TIES_MAX_N = 25;

/**
 * Mann–Whitney U test of `a` against `b`, two-sided. Exact (counted) distribution when
 * n1 + n2 ≤ 50 without ties, or ≤ 25 with ties (the distribution of the mid-rank sum);
 * otherwise the normal approximation with tie correction and continuity correction
 * (scipy's `mannwhitneyu` with method `asymptotic`). Values must be finite. An empty
 * sample gives no evidence: p = 1.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): UTestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1 };
  const groups = rank(a, b);
  const rankSumA = groups.reduce((acc, g) => acc + g.fromA * g.meanRank, 0);
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const tied = groups.some((g) => g.size > 1);
  if (n1 + n2 <= (tied ? EXACT_TIES_MAX_N : EXACT_MAX_N)) return { u, p: exactP(groups, n1, rankSumA) };
  // The distribution of U is symmetric about n1·n2/2: take the upper tail of the larger U.
  const upper = Math.max(u, n1 * n2 - u);
  const n = n1 + n2;
  const tieTerm = groups.reduce((acc, g) => acc + (g.size ** 3 - g.size), 0);
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

/** Values equal in the pooled sample: how many, how many of them from `a`, and the mean of the ranks they share. */
interface TieGroup {
  readonly size: number;
  readonly fromA: number;
  readonly meanRank: number;
}

/** The pooled sample's tie groups in value order (a group of 1 is an untied value). */
function rank(a: readonly number[], b: readonly number[]): TieGroup[] {
  const pooled = [...a.map((v) => ({ v, fromA: 1 })), ...b.map((v) => ({ v, fromA: 0 }))].sort((x, y) => x.v - y.v);
  const groups: TieGroup[] = [];
  for (let i = 0; i < pooled.length; ) {
    let j = i + 1;
    while (j < pooled.length && (pooled[j] as { v: number }).v === (pooled[i] as { v: number }).v) j++;
    let fromA = 0;
    for (let k = i; k < j; k++) fromA += (pooled[k] as { fromA: number }).fromA;
    // Positions i..j-1 (0-based) share ranks i+1..j: their mean.
    groups.push({ size: j - i, fromA, meanRank: (i + 1 + j) / 2 });
    i = j;
  }
  return groups;
}

/**
 * The exact two-sided p of `a`'s rank sum: the share of the C(n, n1) ways to pick n1 of
 * the pooled values whose rank sum lies at least as far from its mean n1·(n + 1)/2 as
 * the one observed. Counted over the tie groups: picking m of a group of t (C(t, m) ways)
 * adds m times its mean rank. Ranks are counted doubled, so mean ranks (halves) are
 * integers. Without ties this is the classic exact U distribution.
 */
function exactP(groups: readonly TieGroup[], n1: number, rankSumA: number): number {
  const n = groups.reduce((acc, g) => acc + g.size, 0);
  const maxSum = n1 * (2 * n - n1 + 1); // doubled: the n1 largest ranks
  // ways[k][s]: picks of k values from the groups so far with doubled rank sum s.
  let ways: number[][] = [[1, ...new Array<number>(maxSum).fill(0)]];
  for (const g of groups) {
    const r2 = 2 * g.meanRank;
    const next = Array.from({ length: Math.min(n1, ways.length - 1 + g.size) + 1 }, () => new Array<number>(maxSum + 1).fill(0));
    for (let k = 0; k < ways.length; k++) {
      const row = ways[k] as number[];
      for (let m = 0, c = 1; m <= g.size && k + m <= n1; c = (c * (g.size - m)) / (m + 1), m++) {
        const out = next[k + m] as number[];
        for (let s = 0; s + m * r2 <= maxSum; s++) if ((row[s] as number) > 0) out[s + m * r2] = (out[s + m * r2] as number) + (row[s] as number) * c;
      }
    }
    ways = next;
  }
  const mean2 = n1 * (n + 1);
  const observed = Math.abs(2 * rankSumA - mean2);
  const all = ways[n1] as number[];
  let tail = 0;
  let total = 0;
  for (let s = 0; s < all.length; s++) {
    total += all[s] as number;
    if (Math.abs(s - mean2) >= observed) tail += all[s] as number;
  }
  return Math.min(1, tail / total);
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
