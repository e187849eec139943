import type { Random } from '../random.js';

/**
 * A service answering a share of its calls with a transient error (the `flaky` scenario):
 * "try again", before it has done anything. Callers that retry lose time, not orders.
 */
export class TransientServiceError extends Error {
  readonly code = 'EUNAVAILABLE';
  /** A broker consumer puts the message back (nack with requeue) instead of dead-lettering it. */
  readonly requeue = true;
  constructor(service: string) {
    super(`${service} is temporarily unavailable (injected)`);
    this.name = 'TransientServiceError';
  }
}

/** How often a service fails its calls: drawn per call from the component's seeded stream. */
export class ErrorRate {
  private share = 0;

  constructor(private readonly random: Random) {}

  /** Fail this share of the calls from now on (0: none). */
  set(share: number): void {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`an error share is from 0 to 1, got ${share}`);
    this.share = share;
  }

  /** Whether this call fails. Costs nothing while the share is 0. */
  fail(): boolean {
    return this.share > 0 && this.random.chance(this.share);
  }
}
