import type { OrderRequest } from '../workflow/types.js';

/** What the invariant checker needs of a placed order. */
export interface PlacedOrder {
  readonly orderId: string;
  readonly amountCents: number;
}

/**
 * Every order the client placed and whether the system took it, kept compactly: on the
 * hot path, retaining whole orders (items and all) cost more in garbage collection than
 * the call under test (measured with bench:harness).
 */
export class PlacedLog {
  private readonly ids: string[] = [];
  private readonly amounts: number[] = [];
  private accepted = new Uint8Array(1024);

  /** Record an order; returns its index for `accept`. */
  add(order: OrderRequest): number {
    const index = this.ids.push(order.orderId) - 1;
    this.amounts.push(order.amountCents);
    if (index >= this.accepted.length) {
      const grown = new Uint8Array(this.accepted.length * 2);
      grown.set(this.accepted);
      this.accepted = grown;
    }
    return index;
  }

  /** The system told the client it had taken the order at `index`. */
  accept(index: number): void {
    this.accepted[index] = 1;
  }

  get size(): number {
    return this.ids.length;
  }

  orders(): PlacedOrder[] {
    return this.ids.map((orderId, i) => ({ orderId, amountCents: this.amounts[i] ?? 0 }));
  }

  acceptedIds(): Set<string> {
    const set = new Set<string>();
    for (let i = 0; i < this.ids.length; i++) if (this.accepted[i]) set.add(this.ids[i] as string);
    return set;
  }
}
