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

/**
 * How often a service fails its calls: exactly `share` of them, spread evenly (every 20th
 * call for 5%), starting at a seeded point. Not a coin per call: in a short window a coin
 * can fail none of a hundred calls in one pattern and eight in the next, and the same
 * share of calls must fail in every pattern.
 */
export class ErrorRate {
  private share = 0;
  private credit: number;

  constructor(random: Random) {
    this.credit = random.next();
  }

  /** Fail this share of the calls from now on (0: none). */
  set(share: number): void {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`an error share is from 0 to 1, got ${share}`);
    this.share = share;
  }

  /** Whether this call fails. Costs nothing while the share is 0. */
  fail(): boolean {
    if (this.share === 0) return false;
    this.credit += this.share;
    if (this.credit < 1) return false;
    this.credit -= 1;
    return true;
  }
}
