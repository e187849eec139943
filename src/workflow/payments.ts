import type { ChargeResult } from './types.js';

/** One movement of money. The net charge of an order is its charges minus its refunds. */
export interface LedgerEntry {
  readonly orderId: string;
  readonly customerId: string;
  readonly kind: 'charge' | 'refund';
  readonly amountCents: number;
}

/** Everything the invariant checker needs to know about money. Plain data. */
export interface PaymentsSnapshot {
  readonly ledger: readonly LedgerEntry[];
  /** Orders whose charge was declined (no money moved). */
  readonly declined: readonly string[];
  readonly duplicates: number;
}

type ChargeState = { state: 'charged' | 'refunded' | 'declined' | 'tombstone'; customerId: string; amountCents: number };

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

  constructor(initialBalances: Readonly<Record<string, number>>) {
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
      this.charges.set(orderId, { state: 'declined', customerId, amountCents });
      return { ok: false, reason: 'payment_declined' };
    }
    this.balances.set(customerId, balance - amountCents);
    this.charges.set(orderId, { state: 'charged', customerId, amountCents });
    this.ledger.push({ orderId, customerId, kind: 'charge', amountCents });
    return { ok: true };
  }

  /** Refund the order's charge, if there is one. Returns whether money moved. */
  refund(orderId: string): boolean {
    const existing = this.charges.get(orderId);
    if (!existing) {
      this.charges.set(orderId, { state: 'tombstone', customerId: '', amountCents: 0 });
      return false;
    }
    if (existing.state !== 'charged') {
      this.duplicates++;
      return false;
    }
    existing.state = 'refunded';
    this.balances.set(existing.customerId, (this.balances.get(existing.customerId) ?? 0) + existing.amountCents);
    this.ledger.push({ orderId, customerId: existing.customerId, kind: 'refund', amountCents: existing.amountCents });
    return true;
  }

  snapshot(): PaymentsSnapshot {
    const declined: string[] = [];
    for (const [orderId, c] of this.charges) if (c.state === 'declined') declined.push(orderId);
    return { ledger: [...this.ledger], declined, duplicates: this.duplicates };
  }
}
