import type { CancelReason, OrderRequest, TerminalStatus } from '../../workflow/types.js';

/** What a participant answers for one step: done, or a business refusal (not retried). */
export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: CancelReason };

/**
 * The saga's participants as the orchestrator calls them. A call that throws failed
 * technically (timeout, unavailable): it is retried, then the saga compensates. Every
 * call is idempotent by orderId, so a retry or a resumed saga never doubles an effect.
 */
export interface SagaParticipants {
  charge(order: OrderRequest): Promise<StepResult>;
  refund(orderId: string): Promise<void>;
  reserve(order: OrderRequest): Promise<StepResult>;
  release(orderId: string): Promise<void>;
  confirm(orderId: string): Promise<void>;
  cancel(orderId: string, reason: CancelReason): Promise<void>;
  notify(orderId: string, status: TerminalStatus): Promise<void>;
}

/**
 * One step of the saga: a compensatable step has an undo; the pivot is the point of no
 * return (after it the saga only goes forward); retriable steps after the pivot are
 * retried until they succeed.
 */
export interface SagaStep {
  readonly name: string;
  readonly kind: 'compensatable' | 'pivot' | 'retriable';
  run(p: SagaParticipants, order: OrderRequest): Promise<StepResult>;
  /** Undo of a compensatable step. */
  compensate?(p: SagaParticipants, order: OrderRequest): Promise<void>;
}

const done = async (call: Promise<void>): Promise<StepResult> => {
  await call;
  return { ok: true };
};

/**
 * The order saga, in the seed's order: charge the payment, reserve the stock, confirm the
 * order (the pivot), notify. A failure before the pivot undoes the steps before it, in
 * reverse order: release the stock, then refund the payment.
 */
export const ORDER_SAGA: readonly SagaStep[] = [
  { name: 'charge-payment', kind: 'compensatable', run: (p, o) => p.charge(o), compensate: (p, o) => p.refund(o.orderId) },
  { name: 'reserve-stock', kind: 'compensatable', run: (p, o) => p.reserve(o), compensate: (p, o) => p.release(o.orderId) },
  { name: 'confirm-order', kind: 'pivot', run: (p, o) => done(p.confirm(o.orderId)) },
  { name: 'notify', kind: 'retriable', run: (p, o) => done(p.notify(o.orderId, 'CONFIRMED')) },
];
