import type { Random } from '../random.js';
import { OrderGenerator } from '../workflow/generator.js';

/** The kinds of order `trace` can place: paid and reserved, refused by payments, or short of stock (which refunds). */
export const TRACE_OUTCOMES = ['confirmed', 'declined', 'out-of-stock'] as const;
export type TraceOutcome = (typeof TRACE_OUTCOMES)[number];

/** An order generator whose every order has `outcome`, on SKUs and customers of its own. */
export function generatorFor(outcome: TraceOutcome, random: Random): OrderGenerator {
  const options =
    outcome === 'confirmed'
      ? { outOfStockShare: 0, declineShare: 0 }
      : outcome === 'declined'
        ? { outOfStockShare: 0, declineShare: 1 }
        : // No stock at all on the scarce SKUs: the reservation fails and the charge is refunded.
          { outOfStockShare: 1, declineShare: 0, scarceStock: 0 };
  return new OrderGenerator(random, options, `trace-${outcome}`, outcome);
}

