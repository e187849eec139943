import type { Random } from '../random.js';
import type { World } from './services.js';
import type { OrderItem, OrderRequest } from './types.js';

/** Shape of the generated load. All shares are in [0, 1]. */
export interface GeneratorOptions {
  /** Share of orders that ask for a scarce SKU, which runs out early in the run. Default 0.1. */
  readonly outOfStockShare?: number;
  /** Share of orders placed by a customer who cannot pay. Default 0.1. */
  readonly declineShare?: number;
  /** Number of ordinary SKUs (never run out). Default 50. */
  readonly skus?: number;
  /** Number of scarce ("hot") SKUs. Default 4. */
  readonly scarceSkus?: number;
  /** Initial stock of each scarce SKU: the first few orders for it succeed. Default 3. */
  readonly scarceStock?: number;
  /** Number of solvent customers. Default 200. */
  readonly customers?: number;
  /** Number of customers without funds. Default 20. */
  readonly brokeCustomers?: number;
}

export const GENERATOR_DEFAULTS: Required<GeneratorOptions> = {
  outOfStockShare: 0.1,
  declineShare: 0.1,
  skus: 50,
  scarceSkus: 4,
  scarceStock: 3,
  customers: 200,
  brokeCustomers: 20,
};

// Ordinary stock and funds are large enough that no run exhausts them; only the scarce
// SKUs and broke customers produce cancellations, so their shares are what the options say.
const PLENTY_STOCK = 1_000_000_000;
const PLENTY_FUNDS = Number.MAX_SAFE_INTEGER / 4;
const BROKE_FUNDS = 100;
const MIN_PRICE_CENTS = 500;

/**
 * The seeded order generator. The same seed gives the same world and the same sequence
 * of orders, so every pattern is driven by identical load.
 */
export class OrderGenerator {
  readonly options: Required<GeneratorOptions>;
  private readonly prices: number[] = [];
  private seq = 0;

  /**
   * `scarceTag` renames the scarce SKUs and the broke customers (`hot-<tag>-0`…): a
   * generator for the warm-up gets its own, so that however long a warm-up runs, the
   * measured window starts from the same stock and the same balances in every pattern.
   */
  constructor(
    private readonly random: Random,
    options: GeneratorOptions = {},
    private readonly idPrefix = 'ord',
    private readonly scarceTag = '',
  ) {
    this.options = { ...GENERATOR_DEFAULTS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`generator option ${name} must be ≥ 0, got ${value}`);
    }
    if (this.options.skus < 1 || this.options.customers < 1) throw new RangeError('generator needs at least one SKU and one customer');
    if (this.options.outOfStockShare + this.options.declineShare > 1) {
      throw new RangeError('outOfStockShare + declineShare must be ≤ 1');
    }
    for (let i = 0; i < this.options.skus + this.options.scarceSkus; i++) {
      this.prices.push(this.random.int(MIN_PRICE_CENTS, 10_000));
    }
  }

  /** The initial stock and balances that go with this generator's orders. */
  world(): World {
    const stock: Record<string, number> = {};
    for (let i = 0; i < this.options.skus; i++) stock[skuName(i)] = PLENTY_STOCK;
    for (let i = 0; i < this.options.scarceSkus; i++) stock[scarceName(i, this.scarceTag)] = this.options.scarceStock;
    const balances: Record<string, number> = {};
    for (let i = 0; i < this.options.customers; i++) balances[customerName(i)] = PLENTY_FUNDS;
    for (let i = 0; i < this.options.brokeCustomers; i++) balances[brokeName(i, this.scarceTag)] = BROKE_FUNDS;
    return { stock, balances };
  }

  /** Orders generated so far. */
  get count(): number {
    return this.seq;
  }

  next(): OrderRequest {
    const { random, options } = this;
    const kind = random.next();
    const scarce = kind < options.outOfStockShare && options.scarceSkus > 0;
    const broke = !scarce && kind < options.outOfStockShare + options.declineShare && options.brokeCustomers > 0;

    const lines = random.int(1, 3);
    const items: OrderItem[] = [];
    let amountCents = 0;
    const used = new Set<number>();
    for (let i = 0; i < lines; i++) {
      const index = random.int(0, options.skus - 1);
      if (used.has(index)) continue;
      used.add(index);
      const qty = random.int(1, 3);
      items.push({ sku: skuName(index), qty });
      amountCents += qty * (this.prices[index] ?? MIN_PRICE_CENTS);
    }
    if (scarce) {
      const index = random.int(0, options.scarceSkus - 1);
      items.push({ sku: scarceName(index, this.scarceTag), qty: 1 });
      amountCents += this.prices[options.skus + index] ?? MIN_PRICE_CENTS;
    }
    const customerId = broke
      ? brokeName(random.int(0, options.brokeCustomers - 1), this.scarceTag)
      : customerName(random.int(0, Math.max(0, options.customers - 1)));
    return { orderId: `${this.idPrefix}-${++this.seq}`, customerId, items, amountCents };
  }
}

const skuName = (i: number) => `sku-${i}`;
const scarceName = (i: number, tag: string) => (tag ? `hot-${tag}-${i}` : `hot-${i}`);
const customerName = (i: number) => `cust-${i}`;
const brokeName = (i: number, tag: string) => (tag ? `broke-${tag}-${i}` : `broke-${i}`);

/** Two generators' worlds as one (their scarce SKUs and broke customers apart, the rest shared). */
export function mergeWorlds(a: World, b: World): World {
  return { stock: { ...b.stock, ...a.stock }, balances: { ...b.balances, ...a.balances } };
}
