import { epochMs, type Clock } from './clock.js';
import type { ChargeResult } from './types.js';

/** One movement of money. The net charge of an order is its charges minus its refunds. */
export interface LedgerEntry {
  readonly orderId: string;
  readonly customerId: string;
  readonly kind: 'charge' | 'refund';
  readonly amountCents: number;
  /** When the money moved, epoch ms (`epochMs()`); absent where a pattern's snapshot does not record it. */
  readonly at?: number;
}

/** Everything the invariant checker needs to know about money. Plain data. */
export interface PaymentsSnapshot {
  readonly ledger: readonly LedgerEntry[];
  /** Orders whose charge was declined (no money moved). */
  readonly declined: readonly string[];
  /** When each charge of `declined` was declined (same index), epoch ms; absent where not recorded. */
  readonly declinedAt?: readonly number[];
  readonly duplicates: number;
}

/** `at`: when the charge was made or declined, epoch ms (one number per order: the journey's timestamps are bounded by the state itself). */
type ChargeState = { state: 'charged' | 'refunded' | 'declined' | 'tombstone'; customerId: string; amountCents: number; at: number };

/**
 * Customer balances and a payment ledger. Every effect is keyed by `orderId`: a repeated
 * charge or refund returns the first result and moves no money. A refund that arrives
 * before its charge leaves a tombstone so the late charge is declined.
 */
export class PaymentsService {
  private readonly balances = new Map<string, number>();
  private readonly charges = new Map<string, ChargeState>();
  private readonly ledger: LedgerEntry[] = [];
  private duplicates = 0;

  constructor(
    initialBalances: Readonly<Record<string, number>>,
    private readonly clock: Clock = epochMs,
  ) {
    for (const [customer, cents] of Object.entries(initialBalances)) this.balances.set(customer, cents);
  }

  charge(orderId: string, customerId: string, amountCents: number): ChargeResult {
    const existing = this.charges.get(orderId);
    if (existing) {
      this.duplicates++;
      return existing.state === 'charged' || existing.state === 'refunded'
        ? { ok: true }
        : { ok: false, reason: 'payment_declined' };
    }
    const balance = this.balances.get(customerId) ?? 0;
    if (balance < amountCents) {
      this.charges.set(orderId, { state: 'declined', customerId, amountCents, at: this.clock ? this.clock() : 0 });
      return { ok: false, reason: 'payment_declined' };
    }
    this.balances.set(customerId, balance - amountCents);
    const at = this.clock ? this.clock() : 0;
    this.charges.set(orderId, { state: 'charged', customerId, amountCents, at });
    this.ledger.push({ orderId, customerId, kind: 'charge', amountCents, at });
    return { ok: true };
  }

  /** Refund the order's charge, if there is one. Returns whether money moved. */
  refund(orderId: string): boolean {
    const existing = this.charges.get(orderId);
    if (!existing) {
      this.charges.set(orderId, { state: 'tombstone', customerId: '', amountCents: 0, at: 0 });
      return false;
    }
    if (existing.state !== 'charged') {
      this.duplicates++;
      return false;
    }
    existing.state = 'refunded';
    this.balances.set(existing.customerId, (this.balances.get(existing.customerId) ?? 0) + existing.amountCents);
    this.ledger.push({ orderId, customerId: existing.customerId, kind: 'refund', amountCents: existing.amountCents, at: this.clock ? this.clock() : 0 });
    return true;
  }

  snapshot(): PaymentsSnapshot {
    const declined: string[] = [];
    const declinedAt: number[] = [];
    for (const [orderId, c] of this.charges) {
      if (c.state !== 'declined') continue;
      declined.push(orderId);
      declinedAt.push(c.at);
    }
    return { ledger: [...this.ledger], declined, declinedAt, duplicates: this.duplicates };
  }
}
