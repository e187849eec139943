import type { CapacityPhase } from '../bench/results.js';
import { medianWithCi } from '../bench/stats.js';
import { percentileText } from './columns.js';
import { fmtInt, fmtMs, fmtRatio } from './format.js';
import { invariantVerdict, type SummaryRow } from './summary.js';

/** A ratio worth saying out loud (under 1.15× is noise on a shared machine). */
const NOTABLE = 1.15;

/** An open-loop row that completed less than this share of what it was offered fell behind. */
const KEEPS_UP = 0.95;

/** Offered rates this close (max/min) are one rate: the generator's measured rate wobbles around its target. */
const SAME_RATE = 1.02;

/** One pattern's closed-loop capacity, orders/s. */
export interface PatternCapacity {
  readonly pattern: string;
  readonly ordersPerSecond: number;
}

/** Each pattern's capacity from the capacity phase: the median of its completed trials, in the order they ran. */
export function capacities(phase: CapacityPhase | undefined): PatternCapacity[] {
  if (!phase) return [];
  const patterns = [...new Set(phase.runs.map((r) => r.pattern))];
  return patterns.flatMap((pattern) => {
    const m = medianWithCi(phase.runs.flatMap((r) => (r.pattern === pattern && r.state === 'completed' && r.achieved !== null ? [r.achieved] : [])));
    return m ? [{ pattern, ordersPerSecond: m.median }] : [];
  });
}

/** The least and the most capacity, and the ratio between them. */
function capacitySentence(capacity: readonly PatternCapacity[]): string | null {
  const sorted = [...capacity].filter((c) => c.ordersPerSecond > 0).sort((a, b) => a.ordersPerSecond - b.ordersPerSecond);
  const least = sorted[0];
  const most = sorted[sorted.length - 1];
  if (!least || !most || least === most) return null;
  const ratio = most.ordersPerSecond / least.ordersPerSecond;
  if (ratio < NOTABLE) {
    return `Every pattern has about the same capacity: ${fmtInt(least.ordersPerSecond)}–${fmtInt(most.ordersPerSecond)} orders/s closed loop.`;
  }
  return `${least.pattern} has the least capacity: ${fmtInt(least.ordersPerSecond)} orders/s closed loop; ${most.pattern} the most, ${fmtRatio(ratio)} as much.`;
}

/** Whether every row of a group was driven open loop at one rate (the target where known, else what was offered). */
function atOneRate(group: readonly SummaryRow[]): boolean {
  const rates = group.map((r) => r.target ?? r.offered);
  if (rates.some((x) => x === null || x <= 0)) return false;
  const xs = rates as number[];
  return Math.max(...xs) / Math.min(...xs) <= SAME_RATE;
}

/**
 * A few sentences read off the numbers, per scenario: capacity, who was fastest and by how
 * much (at equal load: who answered fastest), who fell behind its offered rate, accept versus
 * end-to-end, wire and CPU cost, tails, and every broken invariant. `capacity`: each pattern's
 * closed-loop capacity (see capacities()). Every figure comes from the rows and the capacities;
 * nothing is written down in advance.
 */
export function observe(rows: readonly SummaryRow[], capacity: readonly PatternCapacity[] = []): string[] {
  const out: string[] = [];
  const capacityLine = capacitySentence(capacity);
  if (capacityLine) out.push(capacityLine);
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const group = rows.filter((r) => r.scenario === scenario && r.achieved && r.latencyMs);
    const where = scenarios.length > 1 ? ` (${scenario})` : '';

    const byRate = [...group].sort((a, b) => (b.achieved?.median ?? 0) - (a.achieved?.median ?? 0));
    const top = byRate[0];
    const bottom = byRate[byRate.length - 1];
    const equalLoad = group.length >= 2 && atOneRate(group);
    if (equalLoad) {
      // Every row was asked for the same orders/s: how many completed says little, how fast they answered says it.
      const byP99 = [...group].sort((a, b) => (a.latencyMs?.p99 ?? 0) - (b.latencyMs?.p99 ?? 0));
      const fast = byP99[0];
      const slow = byP99[byP99.length - 1];
      if (fast?.latencyMs && slow?.latencyMs) {
        const p99 = (r: SummaryRow) => percentileText(r.latencyMs, 99);
        out.push(
          slow.latencyMs.p99 / Math.max(fast.latencyMs.p99, 1e-6) >= NOTABLE
            ? `${fast.pattern} answered fastest at equal load${where}: p99 ${p99(fast)} ms; ${slow.pattern} slowest, p99 ${p99(slow)} ms.`
            : `Every pattern answered about as fast at equal load${where}: p99 ${p99(fast)}–${p99(slow)} ms.`,
        );
      }
    } else if (top && bottom && top !== bottom && (bottom.achieved?.median ?? 0) > 0) {
      const ratio = (top.achieved?.median ?? 0) / (bottom.achieved?.median ?? 1);
      out.push(
        `${top.pattern} completed the most orders${where}: ${fmtInt(top.achieved?.median)}/s, ${fmtRatio(ratio)} as many as ${bottom.pattern} (${fmtInt(bottom.achieved?.median)}/s).`,
      );
    }

    for (const r of group) {
      const achieved = r.achieved?.median ?? 0;
      if (r.offered !== null && r.offered > 0 && achieved < KEEPS_UP * r.offered) {
        out.push(`${r.pattern} fell behind the offered rate${where}: ${fmtInt(achieved)} of ${fmtInt(r.offered)} orders/s.`);
      }
    }

    // Asynchronous patterns answer early: compare their accept with the others' end-to-end.
    const sync = group.filter((r) => !r.acceptLatencyMs);
    for (const a of group.filter((r) => r.acceptLatencyMs)) {
      const ref = [...sync].sort((x, y) => (x.latencyMs?.p50 ?? 0) - (y.latencyMs?.p50 ?? 0)).find((r) => r.pattern !== 'direct');
      if (!ref || !a.acceptLatencyMs || !a.latencyMs || !ref.latencyMs) continue;
      const acceptRatio = ref.latencyMs.p50 / Math.max(a.acceptLatencyMs.p50, 1e-6);
      const e2eRatio = a.latencyMs.p50 / Math.max(ref.latencyMs.p50, 1e-6);
      const acceptPart =
        acceptRatio >= NOTABLE ? `accepted orders ${fmtRatio(acceptRatio)} faster than ${ref.pattern} completed them` : `took about as long to accept an order as ${ref.pattern} took to complete one`;
      const e2ePart =
        e2eRatio >= NOTABLE ? `but confirmed them ${fmtRatio(e2eRatio)} slower` : e2eRatio <= 1 / NOTABLE ? `and also completed them ${fmtRatio(1 / e2eRatio)} faster` : 'and completed them in about the same time';
      out.push(`${a.pattern} ${acceptPart} (p50 ${fmtMs(a.acceptLatencyMs.p50)} vs ${fmtMs(ref.latencyMs.p50)} ms) ${e2ePart}${where}.`);
    }

    const wired = group.filter((r) => r.bytesPerOrder !== null && r.bytesPerOrder > 0);
    if (wired.length >= 2) {
      const sorted = [...wired].sort((a, b) => (a.bytesPerOrder ?? 0) - (b.bytesPerOrder ?? 0));
      const lean = sorted[0];
      const heavy = sorted[sorted.length - 1];
      if (lean && heavy && (heavy.bytesPerOrder ?? 0) / (lean.bytesPerOrder ?? 1) >= NOTABLE) {
        out.push(
          `${heavy.pattern} put ${fmtRatio((heavy.bytesPerOrder ?? 0) / (lean.bytesPerOrder ?? 1))} the bytes on the wire per order of ${lean.pattern} (${fmtInt(heavy.bytesPerOrder)} vs ${fmtInt(lean.bytesPerOrder)})${where}.`,
        );
      }
    }

    // The system's own CPU where it was measured apart from the generator's, else the process's.
    const cpu = (r: SummaryRow) => r.systemCpuMicrosPerOrder ?? r.cpuMicrosPerOrder ?? 0;
    const direct = group.find((r) => r.pattern === 'direct');
    const costly = [...group].filter((r) => r !== direct).sort((a, b) => cpu(b) - cpu(a))[0];
    if (direct && costly && cpu(direct) > 0 && cpu(costly) / cpu(direct) >= NOTABLE) {
      out.push(`Transport is the cost: ${costly.pattern} spent ${fmtInt(cpu(costly))} µs of CPU per order, ${fmtRatio(cpu(costly) / cpu(direct))} what direct calls spent${where}.`);
    }

    const tail = [...group]
      .filter((r) => (r.latencyMs?.p50 ?? 0) > 0)
      .sort((a, b) => (b.latencyMs?.p99 ?? 0) / (b.latencyMs?.p50 ?? 1) - (a.latencyMs?.p99 ?? 0) / (a.latencyMs?.p50 ?? 1))[0];
    if (tail?.latencyMs && tail.latencyMs.p99 / tail.latencyMs.p50 >= 3) {
      out.push(
        `${tail.pattern} has the longest tail${where}: its p99 (${fmtMs(tail.latencyMs.p99)} ms) is ${fmtRatio(tail.latencyMs.p99 / tail.latencyMs.p50)} its median.`,
      );
    }
  }
  for (const r of rows) {
    if (r.invariants && !r.invariants.ok) out.push(`**${r.pattern} broke its invariants in ${r.scenario}**: ${invariantVerdict(r.invariants).replace('BROKEN: ', '')}.`);
    if (r.invariants && r.invariants.duplicatesAbsorbed > 0) {
      out.push(`${r.pattern} (${r.scenario}) received ${fmtInt(r.invariants.duplicatesAbsorbed)} duplicate effects that idempotency by orderId absorbed.`);
    }
    if (r.errors.length > 0) out.push(`${r.pattern} errored in ${r.errors.length} of ${r.trials} trial(s) of ${r.scenario}.`);
  }
  return out;
}
