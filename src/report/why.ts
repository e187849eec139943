import type { ResultsDocument } from '../bench/results.js';
import { SATURATED } from '../bench/threads.js';
import type { TransportInfo } from '../patterns/types.js';
import { fmtInt, fmtNum, fmtPercent, fmtRatio } from './format.js';
import { summarize, type SummaryRow } from './summary.js';
import { primaryScenario, shortMs } from './verdicts.js';

/** A ratio worth saying out loud (under 1.15× is noise on a shared machine), as observations.ts has it. */
const NOTABLE = 1.15;

/** A ratio as these sentences say it: two decimals under 2× (so 1.15× never reads as 1.1×), then as fmtRatio(): 3.7×, 12×. */
export function ratioText(r: number): string {
  return r < 2 ? `${r.toFixed(2)}×` : fmtRatio(r);
}

/** The system's own CPU per order where it was measured apart from the generator's, else the process's; null without either. */
const cpuOf = (r: SummaryRow): number | null => r.systemCpuMicrosPerOrder ?? r.cpuMicrosPerOrder;

/** The least and the most of a figure over the rows that have it (> 0), and their ratio; null unless it is notable. */
function extremes(rows: readonly SummaryRow[], pick: (r: SummaryRow) => number | null): { lo: SummaryRow; hi: SummaryRow; ratio: number } | null {
  const have = rows.filter((r) => (pick(r) ?? 0) > 0).sort((a, b) => (pick(a) ?? 0) - (pick(b) ?? 0));
  const lo = have[0];
  const hi = have[have.length - 1];
  if (!lo || !hi || lo === hi) return null;
  const ratio = (pick(hi) ?? 0) / (pick(lo) ?? 1);
  return ratio >= NOTABLE ? { lo, hi, ratio } : null;
}

/** `HTTP/2 (gRPC) framing and protobuf`, `function calls` (an encoding of none is left out). */
function carriedBy(t: TransportInfo | null): string {
  if (!t) return 'an unknown transport';
  return t.encoding && t.encoding !== 'none' ? `${t.protocol} framing and ${t.encoding}` : t.protocol;
}

/** `7.8 messages and 524 bytes per order`, or that it has no wire figures. */
function wire(r: SummaryRow): string {
  if (r.messagesPerOrder === null && r.bytesPerOrder === null) return 'no wire traffic measured';
  return `${fmtNum(r.messagesPerOrder)} messages and ${fmtInt(r.bytesPerOrder)} bytes per order`;
}

const perMessage = (r: SummaryRow): number | null =>
  r.bytesPerOrder !== null && r.messagesPerOrder !== null && r.messagesPerOrder > 0 ? r.bytesPerOrder / r.messagesPerOrder : null;

/**
 * Why the headline figures differ, for one scenario's rows: the CPU, bytes and messages per
 * order of the costliest pattern against the cheapest and what carried them, the busiest
 * thread, and for each asynchronous pattern its accept against its end-to-end latency.
 * Every number comes from the rows; a ratio is said only at 1.15× or more.
 */
export function whyRows(rows: readonly SummaryRow[]): string[] {
  const group = rows.filter((r) => r.completedTrials > 0);
  const out: string[] = [];

  const cpu = extremes(group, cpuOf);
  if (cpu) {
    const { hi, lo, ratio } = cpu;
    out.push(`${hi.pattern}'s ${fmtInt(cpuOf(hi))} CPU µs/order is ${ratioText(ratio)} ${lo.pattern}'s: ${wire(hi)} through ${carriedBy(hi.transport)}.`);
  }

  const bytes = extremes(group, (r) => r.bytesPerOrder);
  if (bytes) {
    const { hi, lo, ratio } = bytes;
    const [a, b] = [perMessage(hi), perMessage(lo)];
    const detail =
      a !== null && b !== null
        ? `: ${fmtNum(hi.messagesPerOrder)} messages of ${fmtInt(a)} bytes on average against ${fmtNum(lo.messagesPerOrder)} of ${fmtInt(b)}`
        : '';
    out.push(`${hi.pattern} puts ${fmtInt(hi.bytesPerOrder)} bytes per order on the wire, ${ratioText(ratio)} ${lo.pattern}'s ${fmtInt(lo.bytesPerOrder)}${detail}.`);
  }

  const messages = extremes(group, (r) => r.messagesPerOrder);
  if (messages) {
    const { hi, lo, ratio } = messages;
    const via = hi.transport?.broker ? `, every one through the ${hi.transport.broker} broker` : ` over ${hi.transport?.protocol ?? 'an unknown transport'}`;
    out.push(`${hi.pattern} exchanges ${fmtNum(hi.messagesPerOrder)} messages per order, ${ratioText(ratio)} ${lo.pattern}'s ${fmtNum(lo.messagesPerOrder)}${via}.`);
  }

  const busy = extremes(group, (r) => r.busiestThread?.eventLoopUtilization ?? null);
  if (busy && busy.hi.busiestThread && busy.lo.busiestThread) {
    const { hi, lo, ratio } = busy;
    const t = hi.busiestThread as NonNullable<SummaryRow['busiestThread']>;
    const u = lo.busiestThread as NonNullable<SummaryRow['busiestThread']>;
    const saturated = t.eventLoopUtilization >= SATURATED ? `: at ${fmtPercent(SATURATED)} or more that thread, not the pattern, sets the pace` : '';
    out.push(
      `${hi.pattern}'s busiest thread (${t.name}) was ${fmtPercent(t.eventLoopUtilization)} busy, ${ratioText(ratio)} ${lo.pattern}'s (${u.name}, ${fmtPercent(u.eventLoopUtilization)})${saturated}.`,
    );
  }

  for (const r of group) {
    const accept = r.acceptLatencyMs;
    if (!accept || !r.latencyMs || accept.p50 <= 0) continue;
    const ratio = r.latencyMs.p50 / accept.p50;
    if (ratio < NOTABLE) continue;
    out.push(
      `${r.pattern} answers in ${shortMs(accept.p50)} ms (accept p50) but finishes an order in ${shortMs(r.latencyMs.p50)} ms end to end, ${ratioText(ratio)} as long: the caller hears back before the workflow is done.`,
    );
  }
  return out;
}

/** whyRows() for the document's first fault-free scenario (the headline figures). */
export function why(doc: ResultsDocument): string[] {
  const rows = summarize(doc);
  const scenario = primaryScenario(rows);
  return scenario === null ? [] : whyRows(rows.filter((r) => r.scenario === scenario));
}
