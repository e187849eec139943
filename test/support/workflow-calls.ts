import type { OrderOutcome } from '../../src/workflow/types.js';

/**
 * The calls one order makes in the orchestrated workflow (runOrderWorkflow), client → orders
 * included, when no hop fails: confirmed — charge, reserve, notify; declined — charge,
 * notify; out of stock — charge, reserve, refund, notify.
 */
export const CALLS_PER_ORDER: Readonly<Record<string, number>> = { CONFIRMED: 4, payment_declined: 3, out_of_stock: 5 };

/** Of those, the calls the business refuses: the declined charge, the reservation short of stock. */
export const REFUSALS_PER_ORDER: Readonly<Record<string, number>> = { CONFIRMED: 0, payment_declined: 1, out_of_stock: 1 };

/** The calls the orders that ended as `outcomes` made, none failed (NaN for an outcome not listed). */
export function callsOf(outcomes: readonly OrderOutcome[]): number {
  return sumOver(outcomes, CALLS_PER_ORDER);
}

/** The refused calls among them (NaN for an outcome not listed). */
export function refusalsOf(outcomes: readonly OrderOutcome[]): number {
  return sumOver(outcomes, REFUSALS_PER_ORDER);
}

function sumOver(outcomes: readonly OrderOutcome[], perOrder: Readonly<Record<string, number>>): number {
  return outcomes.reduce((sum, o) => sum + (perOrder[o.reason ?? o.status] ?? Number.NaN), 0);
}
