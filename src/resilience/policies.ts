import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  noop,
  retry,
  timeout,
  wrap,
  type GeneratorFn,
  type IPolicy,
} from 'cockatiel';
import type { Random } from '../random.js';
import type { WorkflowPorts } from '../workflow/workflow.js';

/** One hop's policy, as data (the report prints it). Times in ms. */
export interface HopPolicy {
  /** Give up on one attempt after this long; null: only the transport's own deadline. */
  readonly timeoutMs: number | null;
  /** Attempts after the first. Safe because every effect is idempotent by orderId. */
  readonly retries: number;
  /** Exponential backoff with full jitter between attempts (seeded). */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number } | null;
  /** Open after this many consecutive failures; try one call again after `halfOpenAfterMs`. */
  readonly breaker: { readonly consecutiveFailures: number; readonly halfOpenAfterMs: number } | null;
}

export type Hop = keyof WorkflowPorts;

/** A resilience policy for the workflow's hops (from cockatiel), declared per pattern. */
export interface ResiliencePolicy {
  readonly name: 'none' | 'default';
  readonly hops: Readonly<Record<Hop, HopPolicy>>;
}

const bare: HopPolicy = { timeoutMs: null, retries: 0, backoff: null, breaker: null };

/** `--resilience none`: each hop is tried once, bounded only by the transport's own deadline. */
export const NO_RESILIENCE: ResiliencePolicy = {
  name: 'none',
  hops: { reserve: bare, charge: bare, release: bare, refund: bare, notify: bare },
};

const forward: HopPolicy = {
  timeoutMs: 1000,
  retries: 2,
  backoff: { initialMs: 20, maxMs: 200 },
  breaker: { consecutiveFailures: 10, halfOpenAfterMs: 500 },
};
// Compensations must land: retried longer and never short-circuited by a breaker.
const compensation: HopPolicy = { timeoutMs: 1000, retries: 8, backoff: { initialMs: 50, maxMs: 1000 }, breaker: null };

/** `--resilience default`: timeouts, retries with backoff and jitter, a breaker on the forward steps. */
export const DEFAULT_RESILIENCE: ResiliencePolicy = {
  name: 'default',
  hops: {
    reserve: forward,
    charge: forward,
    release: compensation,
    refund: compensation,
    notify: { timeoutMs: 500, retries: 0, backoff: null, breaker: null },
  },
};

export const RESILIENCE_POLICIES: Readonly<Record<ResiliencePolicy['name'], ResiliencePolicy>> = {
  none: NO_RESILIENCE,
  default: DEFAULT_RESILIENCE,
};

/** One line per hop, for the report. */
export function describePolicy(policy: ResiliencePolicy): string[] {
  return (Object.entries(policy.hops) as [Hop, HopPolicy][]).map(([hop, p]) => {
    const parts = [
      p.timeoutMs !== null ? `timeout ${p.timeoutMs} ms` : 'no timeout of its own',
      p.retries > 0 && p.backoff ? `${p.retries} retries, backoff ${p.backoff.initialMs}–${p.backoff.maxMs} ms with jitter` : 'no retry',
      p.breaker ? `breaker opens after ${p.breaker.consecutiveFailures} failures, half-open after ${p.breaker.halfOpenAfterMs} ms` : 'no breaker',
    ];
    return `${hop}: ${parts.join('; ')}`;
  });
}

/** Full jitter drawn from the run's seeded stream (cockatiel's own generators use Math.random). */
export function seededFullJitter(random: Random): GeneratorFn<number> {
  return (attempt = 0, options) => [random.next() * Math.min(options.maxDelay, options.initialDelay * options.exponent ** attempt), attempt + 1];
}

/** A call the open breaker refused without trying it: coded, so that hop error counts name it. */
export class CircuitOpenError extends Error {
  readonly code = 'CIRCUIT_OPEN';
  constructor(readonly hop: Hop) {
    super(`${hop}: the circuit breaker is open; the call was not tried`);
    this.name = 'CircuitOpenError';
  }
}

/** Counts what the policies did: retries and short-circuited calls, by hop. */
export type ResilienceListener = (hop: Hop, event: 'retry' | 'timeout' | 'breaker-open' | 'short-circuited') => void;

interface HopPolicies {
  /** Retries, breaker and the attempt timeout. */
  readonly full: IPolicy;
  /** The same retry and breaker instances (one state), without the timeout. */
  readonly untimed: IPolicy;
}

function policyFor(hop: Hop, p: HopPolicy, random: Random, listen?: ResilienceListener): HopPolicies {
  const layers: IPolicy[] = [];
  if (p.retries > 0) {
    const r = retry(
      handleWhen((err) => !(err instanceof BrokenCircuitError)),
      {
        maxAttempts: p.retries,
        backoff: new ExponentialBackoff({ generator: seededFullJitter(random), initialDelay: p.backoff?.initialMs ?? 0, maxDelay: p.backoff?.maxMs ?? 0 }),
      },
    );
    r.onRetry(() => listen?.(hop, 'retry'));
    layers.push(r);
  }
  if (p.breaker) {
    const b = circuitBreaker(
      handleWhen(() => true),
      { halfOpenAfter: p.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(p.breaker.consecutiveFailures) },
    );
    b.onBreak(() => listen?.(hop, 'breaker-open'));
    layers.push(b);
  }
  const untimed = compose(layers);
  if (p.timeoutMs === null) return { full: untimed, untimed };
  const t = timeout(p.timeoutMs, TimeoutStrategy.Aggressive);
  t.onTimeout(() => listen?.(hop, 'timeout'));
  return { full: compose([...layers, t]), untimed };
}

function compose(layers: readonly IPolicy[]): IPolicy {
  if (layers.length === 0) return noop;
  return layers.length === 1 ? (layers[0] as IPolicy) : wrap(...layers);
}

/**
 * Wrap a pattern's ports in the policy: retries outermost, then the breaker, then the
 * timeout of each attempt (undici-style composition: the pattern's code does not change).
 *
 * `mayHang(hop)`, when given, says whether a call on the hop could outlast its timeout at
 * all: an in-memory call with no fault on its boundary settles within its own microtasks,
 * so its timeout could never fire, and the attempt runs without one (no timer, no signal;
 * the same retry and breaker state).
 */
export function withResilience(ports: WorkflowPorts, policy: ResiliencePolicy, random: Random, listen?: ResilienceListener, mayHang?: (hop: Hop) => boolean): WorkflowPorts {
  if (policy.name === 'none') return ports;
  const p = Object.fromEntries(
    (Object.keys(policy.hops) as Hop[]).map((hop) => [hop, policyFor(hop, policy.hops[hop], random.fork(), listen)]),
  ) as Record<Hop, HopPolicies>;
  // A signal per call: without one, cockatiel hangs every call's listener on one shared
  // signal, and Node warns of a leak past ten calls in flight.
  const attempt = <T>(hop: Hop, call: () => Promise<T>): Promise<T> =>
    mayHang && !mayHang(hop) ? p[hop].untimed.execute(call) : p[hop].full.execute(call, new AbortController().signal);
  const run = <T>(hop: Hop, call: () => Promise<T>): Promise<T> =>
    attempt(hop, call).catch((err: unknown) => {
      if (!(err instanceof BrokenCircuitError)) throw err;
      listen?.(hop, 'short-circuited');
      throw new CircuitOpenError(hop);
    });
  return {
    reserve: (order) => run('reserve', () => ports.reserve(order)),
    charge: (order) => run('charge', () => ports.charge(order)),
    release: (orderId) => run('release', () => ports.release(orderId)),
    refund: (orderId) => run('refund', () => ports.refund(orderId)),
    notify: (orderId, status) => run('notify', () => ports.notify(orderId, status)),
  };
}
