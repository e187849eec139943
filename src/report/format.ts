/** Number formatting shared by the table, the markdown report and the observations. */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 */
export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : grouped.format(Math.round(n));
}

/** Milliseconds with sensible precision: 0.042, 1.23, 12.3, 1,234. */
export function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n >= 100) return grouped.format(Math.round(n));
  if (n >= 10) return n.toFixed(1);
  if (n >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** 0.1 → 1 decimal place, large numbers grouped. */
export function fmtNum(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.abs(n) >= 1000 ? grouped.format(Math.round(n)) : n.toFixed(digits);
}

/** A ratio for prose: 1.3×, 12×. */
export function fmtRatio(r: number): string {
  return r >= 10 ? `${Math.round(r)}×` : `${r.toFixed(1)}×`;
}

export function fmtPercent(share: number | null | undefined): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '—' : `${(share * 100).toFixed(0)}%`;
}

/** A duration given in ms, in seconds for prose and tables: 0.20 s, 1.2 s, 12.5 s, 1,234 s. */
export function fmtSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = ms / 1000;
  if (s >= 100) return `${grouped.format(Math.round(s))} s`;
  if (s >= 1) return `${s.toFixed(1)} s`;
  return `${s.toFixed(2)} s`;
}

/** A signed change in percent, one decimal: +10.0%, -3.2%. */
export function fmtSignedPercent(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '—';
  return `${pct >= 0 ? '+' : ''}${fmtNum(pct, 1)}%`;
}
