import { effectClock, TimeColumn, type Clock } from './clock.js';
import type { SnapshotPacker } from './packed-snapshot.js';
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
  /**
   * When each charge (in `charges`' order: made, declined or tombstone) and each ledger
   * entry happened: one number each, so bounded by the state itself.
   */
  private readonly chargedAt: TimeColumn;
  private readonly ledgerAt: TimeColumn;
  private duplicates = 0;

  constructor(initialBalances: Readonly<Record<string, number>>, clock: Clock = effectClock()) {
    this.chargedAt = new TimeColumn(clock);
    this.ledgerAt = new TimeColumn(clock);
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
      this.chargedAt.stamp();
      return { ok: false, reason: 'payment_declined' };
    }
    this.balances.set(customerId, balance - amountCents);
    this.charges.set(orderId, { state: 'charged', customerId, amountCents });
    this.chargedAt.stamp();
    this.ledger.push({ orderId, customerId, kind: 'charge', amountCents });
    this.ledgerAt.stamp();
    return { ok: true };
  }

  /** Refund the order's charge, if there is one. Returns whether money moved. */
  refund(orderId: string): boolean {
    const existing = this.charges.get(orderId);
    if (!existing) {
      this.charges.set(orderId, { state: 'tombstone', customerId: '', amountCents: 0 });
      this.chargedAt.stamp(true);
      return false;
    }
    if (existing.state !== 'charged') {
      this.duplicates++;
      return false;
    }
    existing.state = 'refunded';
    this.balances.set(existing.customerId, (this.balances.get(existing.customerId) ?? 0) + existing.amountCents);
    this.ledger.push({ orderId, customerId: existing.customerId, kind: 'refund', amountCents: existing.amountCents });
    this.ledgerAt.stamp();
    return true;
  }

  snapshot(): PaymentsSnapshot {
    const declined: string[] = [];
    const declinedAt: number[] = [];
    this.eachDeclined((orderId, at) => {
      declined.push(orderId);
      declinedAt.push(at);
    });
    const ledger = this.ledger.map((e, j) => {
      const at = this.ledgerAt.at(j);
      return at === undefined ? e : { ...e, at };
    });
    return { ledger, declined, declinedAt, duplicates: this.duplicates };
  }

  /** Each declined charge's order and the time it was declined (0 while the journal is off), in the order charges were made. */
  private eachDeclined(visit: (orderId: string, at: number) => void): void {
    let i = 0;
    for (const [orderId, c] of this.charges) {
      if (c.state === 'declined') visit(orderId, this.chargedAt.at(i) ?? 0);
      i++;
    }
  }

  /** The same records packed, straight from the state: no object per entry (see packed-snapshot.ts). */
  packInto(packer: SnapshotPacker): void {
    packer.reserveLedger(this.ledger.length);
    this.ledger.forEach((e, j) => packer.ledgerEntry(e, this.ledgerAt.at(j) ?? e.at));
    const declinedAt: number[] = [];
    this.eachDeclined((orderId, at) => {
      packer.declined(orderId);
      declinedAt.push(at);
    });
    packer.payments({ duplicates: this.duplicates, declinedAt });
  }
}
