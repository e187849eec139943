import { NoCapacityError } from '../errors.js';
import type { LoadModel } from './config.js';
import type { CapacityPhase, EqualLoad } from './results.js';
import { medianWithCi } from './stats.js';

/**
 * The one open-loop rate of a run. `equal`: `fraction` × the slowest selected pattern's
 * capacity (median over its capacity trials), whole orders/s, at least 1; `open`: --rate;
 * `closed`: none. Throws NoCapacityError when no pattern completed a capacity run.
 */
export function chooseEqualLoad(model: LoadModel, capacity: CapacityPhase | undefined): EqualLoad | undefined {
  if (model.kind === 'closed' || model.kind === 'sweep') return undefined;
  if (model.kind === 'open') return { rate: model.rate, source: 'fixed', fraction: null, basis: null };
  const runs = capacity?.runs ?? [];
  const byPattern = new Map<string, number[]>();
  for (const r of runs) {
    if (r.state !== 'completed' || r.achieved === null || r.achieved <= 0) continue;
    byPattern.set(r.pattern, [...(byPattern.get(r.pattern) ?? []), r.achieved]);
  }
  let basis: { pattern: string; capacity: number } | null = null;
  for (const [pattern, values] of byPattern) {
    const median = medianWithCi(values)?.median ?? 0;
    if (basis === null || median < basis.capacity) basis = { pattern, capacity: median };
  }
  if (basis === null) {
    throw new NoCapacityError(runs.map((r) => `${r.pattern}: ${r.error ? `${r.error.code}: ${r.error.message}` : r.state === 'completed' ? 'completed no order' : r.state}`));
  }
  return { rate: Math.max(1, Math.round(model.fraction * basis.capacity)), source: 'capacity', fraction: model.fraction, basis };
}
