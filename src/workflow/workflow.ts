import type { OrdersService } from './orders.js';
import type { WorkflowServices } from './services.js';
import type { ChargeResult, OrderOutcome, OrderRequest, ReserveResult, TerminalStatus } from './types.js';

/**
 * The downstream hops of the workflow as the orders service sees them. Each pattern
 * implements these over its transport (function calls, HTTP, gRPC…); the business logic
 * in `runOrderWorkflow` is written once. A port throws when its hop fails (timeout,
 * connection refused, 5xx): that is a downstream error, not a business answer.
 */
export interface WorkflowPorts {
  reserve(order: OrderRequest): Promise<ReserveResult>;
  release(orderId: string): Promise<void>;
  charge(order: OrderRequest): Promise<ChargeResult>;
  refund(orderId: string): Promise<void>;
  notify(orderId: string, status: TerminalStatus): Promise<void>;
}

/** Called on every failed hop (for error counts by kind); never changes the outcome. */
export type HopErrorListener = (hop: keyof WorkflowPorts, err: unknown) => void;

/** Ports that call the in-memory services directly: the `direct` pattern's hops. */
export function directPorts(services: WorkflowServices): WorkflowPorts {
  const { inventory, payments, notifications } = services;
  return {
    reserve: async (order) => inventory.reserve(order.orderId, order.items),
    release: async (orderId) => void inventory.release(orderId),
    charge: async (order) => payments.charge(order.orderId, order.customerId, order.amountCents),
    refund: async (orderId) => void payments.refund(orderId),
    notify: async (orderId, status) => notifications.notify(orderId, status),
  };
}

/**
 * The order workflow, orchestrated by the orders service, in the order of the article's
 * choreography chain (OrderCreated → charge → PaymentProcessed → reserve → StockReserved):
 * charge the payment → reserve the stock → confirm. A declined charge cancels with nothing
 * to undo; stock that is short refunds the charge and cancels. A failed hop compensates
 * every step that may have happened, newest first (release, refund — both idempotent, so
 * compensating a step that never ran is harmless) and cancels with `downstream_error`.
 * Idempotent by `orderId`: placing a known order again returns its outcome, or waits for it.
 */
export async function runOrderWorkflow(
  orders: OrdersService,
  ports: WorkflowPorts,
  order: OrderRequest,
  onHopError?: HopErrorListener,
): Promise<OrderOutcome> {
  if (!orders.create(order)) return orders.whenTerminal(order.orderId);
  const { orderId } = order;

  let charged: ChargeResult;
  try {
    charged = await ports.charge(order);
  } catch (err) {
    onHopError?.('charge', err);
    return compensateAfterFailure(orders, ports, orderId, false, onHopError);
  }
  if (!charged.ok) return finish(orders, ports, orderId, 'CANCELLED', onHopError, 'payment_declined');
  orders.advance(orderId, 'CHARGED');

  let reserved: ReserveResult;
  try {
    reserved = await ports.reserve(order);
  } catch (err) {
    onHopError?.('reserve', err);
    return compensateAfterFailure(orders, ports, orderId, true, onHopError);
  }
  if (!reserved.ok) {
    await tryHop('refund', () => ports.refund(orderId), onHopError);
    return finish(orders, ports, orderId, 'CANCELLED', onHopError, 'out_of_stock');
  }
  orders.advance(orderId, 'RESERVED');
  return finish(orders, ports, orderId, 'CONFIRMED', onHopError);
}

async function compensateAfterFailure(
  orders: OrdersService,
  ports: WorkflowPorts,
  orderId: string,
  mayHaveReserved: boolean,
  onHopError: HopErrorListener | undefined,
): Promise<OrderOutcome> {
  // Compensations run in reverse order of the steps they undo: the reservation, then the charge.
  if (mayHaveReserved) await tryHop('release', () => ports.release(orderId), onHopError);
  await tryHop('refund', () => ports.refund(orderId), onHopError);
  return finish(orders, ports, orderId, 'CANCELLED', onHopError, 'downstream_error');
}

async function finish(
  orders: OrdersService,
  ports: WorkflowPorts,
  orderId: string,
  status: TerminalStatus,
  onHopError: HopErrorListener | undefined,
  reason?: OrderOutcome['reason'],
): Promise<OrderOutcome> {
  orders.finish(orderId, status, reason);
  // Best effort: a lost notification never changes the order.
  await tryHop('notify', () => ports.notify(orderId, status), onHopError);
  // If a concurrent duplicate finished the order first, its outcome is the order's.
  return orders.outcome(orderId) ?? (reason ? { orderId, status, reason } : { orderId, status });
}

async function tryHop(hop: keyof WorkflowPorts, call: () => Promise<void>, onHopError?: HopErrorListener): Promise<void> {
  try {
    await call();
  } catch (err) {
    onHopError?.(hop, err);
  }
}
