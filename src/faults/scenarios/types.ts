import type { FaultSpec } from '../toxics/registry.js';

/**
 * What happens at a point of the measurement window:
 * - `fault`: a network fault on every hop the selector matches (`*:payments` is the
 *   payments service's side of every pattern), removed at `until`;
 * - `crash`: a service dies abruptly mid-batch and restarts (patterns that can crash a
 *   service; for the others the runner takes the service's hops `down` for `until`);
 * - `load`: the offered load is multiplied (closed loop: more orders in flight; open loop:
 *   a higher rate) until `until`;
 * - `errors`: a service answers a share of the calls it receives with a transient error,
 *   before doing anything (REST 503, gRPC UNAVAILABLE, a delivery requeued, a processor
 *   task that throws), until `until`.
 */
export type ScenarioAction =
  | { readonly kind: 'fault'; readonly hops: string; readonly fault: FaultSpec }
  | { readonly kind: 'crash'; readonly service: string }
  | { readonly kind: 'errors'; readonly service: string; readonly share: number }
  | { readonly kind: 'load'; readonly multiplier: number };

export interface ScenarioStep {
  /** When, as a share of the measurement window (0 = its start, 1 = its end). */
  readonly at: number;
  /** When it stops (faults removed, load back to normal); a share of the window. */
  readonly until?: number;
  /**
   * Faults only: take the fault off and put it back this often (a share of the window), so
   * that its probability is drawn again for every open connection — toxiproxy draws once
   * per connection, and keep-alive connections live long.
   */
  readonly repeatEvery?: number;
  readonly action: ScenarioAction;
}

/** A scenario is data: a timeline of actions over the measurement window. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** One sentence for `list` and the report. */
  readonly description: string;
  readonly steps: readonly ScenarioStep[];
}
