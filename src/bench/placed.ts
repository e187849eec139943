import { describeError } from '../errors.js';
import type { CancelReason, OrderOutcome, OrderRequest, TerminalStatus } from '../workflow/types.js';

/** What the invariant checker needs of a placed order. */
export interface PlacedOrder {
  readonly orderId: string;
  readonly amountCents: number;
}

/** How the client saw an order end: an answer, an error, no answer by the drain deadline (`timeout`), or nothing recorded. */
export type ClientEnd =
  | { readonly kind: 'outcome'; readonly status: TerminalStatus; readonly reason?: CancelReason; readonly at: number }
  | { readonly kind: 'error'; readonly code: string; readonly at: number }
  | { readonly kind: 'timeout'; readonly at: number }
  | { readonly kind: 'none' };

/** One order as the client saw it, times in epoch ms: the client's side of a journey. */
export interface ClientRecord {
  readonly orderId: string;
  readonly placedAt: number;
  /** Asynchronous patterns: when the system accepted it. */
  readonly acceptedAt?: number;
  readonly end: ClientEnd;
}

/** `ends` codes: how the order ended. 0: no answer yet. */
const END_CODES: readonly (Pick<OrderOutcome, 'status' | 'reason'> | null)[] = [
  null,
  { status: 'CONFIRMED' },
  { status: 'CANCELLED', reason: 'out_of_stock' },
  { status: 'CANCELLED', reason: 'payment_declined' },
  { status: 'CANCELLED', reason: 'downstream_error' },
  { status: 'CANCELLED' },
];
const ERROR_CODE = END_CODES.length;
const TIMEOUT_CODE = ERROR_CODE + 1;

function endCode(outcome: OrderOutcome): number {
  const i = END_CODES.findIndex((e) => e !== null && e.status === outcome.status && e.reason === outcome.reason);
  return i > 0 ? i : END_CODES.length - 1;
}

/**
 * Every order the client placed and whether the system took it, kept compactly: on the
 * hot path, retaining whole orders (items and all) cost more in garbage collection than
 * the call under test (measured with bench:harness). For the journeys of broken
 * invariants it also keeps when each order was placed, accepted and ended, and how: three
 * doubles and a byte per order in typed arrays, an error's code only for failed orders.
 */
export class PlacedLog {
  private readonly ids: string[] = [];
  private readonly amounts: number[] = [];
  private accepted = new Uint8Array(1024);
  private ends = new Uint8Array(1024);
  private placedAt = new Float64Array(1024);
  private acceptedAt = new Float64Array(1024);
  private endedAt = new Float64Array(1024);
  private readonly errors = new Map<number, string>();
  /** Orders before this index have been through a drain deadline (`expire`). */
  private expired = 0;

  /**
   * Times come from the load generator's clock (`performance.now()`, ms), which it reads
   * anyway — no clock read of the log's own on the hot path; `origin` turns them into epoch
   * ms, the services' clock (`epochMs`), in `records()`.
   */
  constructor(private readonly origin: number = performance.timeOrigin) {}

  /** Record an order placed at `at` (the generator's clock); returns its index for `accept`, `settle` and `fail`. */
  add(order: OrderRequest, at: number): number {
    const index = this.ids.push(order.orderId) - 1;
    this.amounts.push(order.amountCents);
    if (index >= this.accepted.length) this.grow();
    this.placedAt[index] = at;
    return index;
  }

  /** The system told the client it had taken the order at `index`. */
  accept(index: number): void {
    this.accepted[index] = 1;
  }

  /** The client learnt the order's outcome at `at` (`acceptedAt`, if any, is on the same clock). */
  settle(index: number, outcome: OrderOutcome, at: number): void {
    this.ends[index] = endCode(outcome);
    this.endedAt[index] = at;
    if (outcome.acceptedAt !== undefined) this.acceptedAt[index] = outcome.acceptedAt;
  }

  /** The client's call failed at `at`. */
  fail(index: number, error: unknown, at: number): void {
    this.ends[index] = ERROR_CODE;
    this.endedAt[index] = at;
    this.errors.set(index, describeError(error).code);
  }

  /** The drain deadline passed at `at`: every order placed since the last deadline that has no end yet timed out. */
  expire(at: number): void {
    for (let i = this.expired; i < this.ids.length; i++) {
      if (this.ends[i] !== 0) continue;
      this.ends[i] = TIMEOUT_CODE;
      this.endedAt[i] = at;
    }
    this.expired = this.ids.length;
  }

  get size(): number {
    return this.ids.length;
  }

  orders(): PlacedOrder[] {
    return [...this.eachOrder()];
  }

  /**
   * The orders as `orders()` has them, made one at a time as they are read, afresh at each
   * reading: nothing kept (the checker reads a few hundred thousand, twice).
   */
  eachOrder(): Iterable<PlacedOrder> {
    return { [Symbol.iterator]: () => this.ordersFrom() };
  }

  private *ordersFrom(): Generator<PlacedOrder> {
    for (let i = 0; i < this.ids.length; i++) yield { orderId: this.ids[i] as string, amountCents: this.amounts[i] ?? 0 };
  }

  acceptedIds(): Set<string> {
    const set = new Set<string>();
    for (let i = 0; i < this.ids.length; i++) if (this.accepted[i]) set.add(this.ids[i] as string);
    return set;
  }

  /**
   * The accepted ids as the checker asks of them (`has`), built on the first question: it
   * asks only of orders the system has no record of, which a healthy run has none of.
   */
  acceptedLookup(): { has(orderId: string): boolean } {
    let set: Set<string> | undefined;
    return { has: (orderId) => (set ??= this.acceptedIds()).has(orderId) };
  }

  /** The client's record of each of `ids` that was placed, in placement order. */
  records(ids: Iterable<string>): ClientRecord[] {
    const wanted = new Set(ids);
    const out: ClientRecord[] = [];
    for (let i = 0; i < this.ids.length && out.length < wanted.size; i++) {
      const orderId = this.ids[i] as string;
      if (wanted.has(orderId)) out.push(this.record(i, orderId));
    }
    return out;
  }

  private record(i: number, orderId: string): ClientRecord {
    const code = this.ends[i] ?? 0;
    const at = this.origin + (this.endedAt[i] ?? 0);
    const outcome = END_CODES[code];
    const end: ClientEnd =
      code === ERROR_CODE
        ? { kind: 'error', code: this.errors.get(i) ?? 'unknown', at }
        : code === TIMEOUT_CODE
          ? { kind: 'timeout', at }
          : outcome
          ? { kind: 'outcome', ...outcome, at }
          : { kind: 'none' };
    const accepted = this.acceptedAt[i] ?? 0;
    return { orderId, placedAt: this.origin + (this.placedAt[i] ?? 0), ...(accepted > 0 ? { acceptedAt: this.origin + accepted } : {}), end };
  }

  private grow(): void {
    const double = <T extends Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const grown = make(a.length * 2);
      grown.set(a);
      return grown;
    };
    this.accepted = double(this.accepted, (n) => new Uint8Array(n));
    this.ends = double(this.ends, (n) => new Uint8Array(n));
    this.placedAt = double(this.placedAt, (n) => new Float64Array(n));
    this.acceptedAt = double(this.acceptedAt, (n) => new Float64Array(n));
    this.endedAt = double(this.endedAt, (n) => new Float64Array(n));
  }
}
