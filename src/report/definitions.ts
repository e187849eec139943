import { DEFAULTS } from '../bench/config.js';
import { KEEPS_UP } from '../bench/sweep-settings.js';
import { SATURATED } from '../bench/threads.js';

/** One term the reports use, defined once: the terminal legend, the markdown report and docs/measurement.md say the same. */
export interface Definition {
  readonly term: string;
  /** Plain text (no markup): it is printed as it is in the terminal and in markdown. */
  readonly text: string;
}

const pct = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Every term of the reports, in the order the legends list them. The numbers come from
 * DEFAULTS (and SATURATED, KEEPS_UP) where a default exists; where a run used another value, the table captions say so.
 */
export const DEFINITIONS: readonly Definition[] = [
  {
    term: 'capacity',
    text:
      `Each pattern's throughput when saturated, measured before the runs: a closed loop of ${DEFAULTS.capacityConcurrency} orders in flight ` +
      `for ${DEFAULTS.capacityS} s per pattern (${DEFAULTS.quick.capacityS} s with --quick), in the baseline scenario: the orders completed in that window ` +
      'per second, the median where it ran more than once. Its table gives the p99 at capacity and the busiest thread, which is what capped it.',
  },
  {
    term: 'equal load',
    text:
      `The one open-loop rate every pattern and scenario is measured at: ${pct(DEFAULTS.equalLoadFraction)} of the slowest selected pattern's capacity ` +
      'by default, or the rate given with --rate. Every pattern is offered the same orders per second, so a difference between two rows is a ' +
      'difference between two patterns; the capacity table says how close to its own limit each one ran.',
  },
  {
    term: 'offered',
    text:
      'Orders per second the load generator started in the window. In an open loop orders start on a fixed schedule, whatever the system does; ' +
      'offered falls short of the rate asked for only when the generator itself fell behind.',
  },
  {
    term: 'achieved',
    text:
      'Orders completed (confirmed or cancelled) inside the window, per second of the window. Below offered, the system did not keep up ' +
      'and its backlog grew.',
  },
  {
    term: 'latency',
    text:
      "From an order's intended start to its terminal state (confirmed or cancelled), for every order started in the window, failures included. " +
      'An order that timed out counts at its deadline, a lower bound: a percentile that falls among those is marked ≥. ' +
      'Accept latency is until the system took the order, for patterns that answer before the work is done. ' +
      'Failed p50/p99 are the same percentiles over the failed and timed-out orders alone: how long a client waited on an order that failed; — when none failed.',
  },
  {
    term: 'percentiles over trials',
    text:
      "Trials are merged, not averaged: a latency percentile is read from the trials' histograms merged into one, and max is the largest of " +
      "the trials' maxima. Figures taken once per trial (throughput, CPU) are the median of the trials. An interval low–high beside a figure " +
      "is the order-statistics confidence interval of the median of the trials' own figures (no normality assumed), shown with its coverage " +
      'and the number of trials n.',
  },
  {
    term: 'samples (n)',
    text:
      'The orders a latency figure is read from, over all trials. A percentile rests on its tail: p99 of 1,000 orders is the 10th slowest, ' +
      'and p99.9 of fewer than 1,000 orders is the maximum.',
  },
  {
    term: 'CPU per order',
    text:
      "The CPU time of the window divided by the orders completed in it, the same orders achieved counts: the system's threads and the " +
      "load generator's thread apart, together when they share one thread, the process's where the platform cannot tell one thread's CPU.",
  },
  {
    term: 'busiest thread',
    text:
      `The system thread whose event loop was busiest over the window, and the share of the window it was busy. At ${pct(SATURATED)} ` +
      'or more the report says so: that row measures the thread, not the pattern. Generator busy is the same share for the load generator.',
  },
  {
    term: 'wire per order',
    text:
      'Bytes per order placed, counted at the server end of every socket of the system; messages per order placed, each once: an ' +
      'HTTP/1.1 request or response and a gRPC message as they crossed a server\'s socket (a gRPC status alone is not one, so a refused ' +
      'call counts 1), an AMQP message as a service consumed or published it, a request or answer of the event-store server. A figure ' +
      'that leaves some traffic out says so (excl. PostgreSQL).',
  },
  {
    term: 'backlog',
    text: 'For patterns that queue work: the most messages waiting at once, and the time to empty the queues once the load stopped.',
  },
  {
    term: 'projection lag',
    text: "Event sourcing: from an event's append to the read model showing it.",
  },
  {
    term: 'compensated',
    text: 'Sagas: from the failed step to the last compensation done.',
  },
  {
    term: 'success',
    text: "The share of the window's orders that reached a business outcome (confirmed or cancelled) rather than failing or timing out.",
  },
  {
    term: 'before / during / after',
    text:
      'A fault scenario splits the window by when each order started: before the fault, during it, after it; an order in flight when the ' +
      'fault began counts as during, since the fault disturbed it.',
  },
  {
    term: 'time to recover',
    text:
      'After the fault ends, the first moment from which the success rate and p99 stay within 10% of their pre-fault levels for at least 1 s; ' +
      'over trials, the median. "never dropped": neither left that band during the fault; "not within the window": the window ended before ' +
      'they held for 1 s; "fault lasts the whole window": there is no before or after to compare with.',
  },
  {
    term: 'scheduler lateness',
    text:
      "Open loop: how far behind its schedule the load generator started orders, at p99 (the largest of the trials'): the lateness p99 column, " +
      '— for a closed loop. Latency is timed from the intended start, so ' +
      "lateness is inside the latency figures, not hidden; above 10% of the p50 latency the report warns: part of that row's latency is " +
      "the generator's, not the system's.",
  },
  {
    term: 'knee',
    text:
      `Sweep: the highest offered rate whose p99 is within the SLO (${DEFAULTS.sloMs} ms by default) and that kept up: achieved at least ${pct(KEEPS_UP)} ` +
      'of the rate the step offered. It is what a pattern can carry at that latency objective.',
  },
];

/** The definition of `term`; throws on a term the list does not have (a typo in a report is a bug). */
export function definition(term: string): Definition {
  const found = DEFINITIONS.find((d) => d.term === term);
  if (!found) throw new Error(`no definition of "${term}"`);
  return found;
}

/** The definitions of `terms` (all by default), in DEFINITIONS order. */
function pick(terms?: readonly string[]): readonly Definition[] {
  if (!terms) return DEFINITIONS;
  for (const t of terms) definition(t);
  return DEFINITIONS.filter((d) => terms.includes(d.term));
}

/** The terminal legend: a title line and one line per term. */
export function definitionsLegend(terms?: readonly string[]): string[] {
  return ['Definitions', ...pick(terms).map((d) => `  ${d.term}: ${d.text}`)];
}

/** The markdown legend: one list item per term (the body of a "Definitions" section). */
export function definitionsMarkdown(terms?: readonly string[]): string[] {
  return pick(terms).map((d) => `- **${d.term}**: ${d.text}`);
}
