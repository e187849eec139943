import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { OrderFailedError, ReadFailedError } from '../../errors.js';
import { traceContext } from '../../tracing/undici.js';
import type { Address } from '../../net/address.js';
import { isTerminal, type OrderOutcome, type OrderRequest } from '../../workflow/types.js';
import { MAX_OUTCOME_WAIT_MS } from './command-server.js';
import type { OrderVerdict } from './outcomes.js';
import type { OrderRecord } from '../../workflow/orders.js';

export interface CqrsClient {
  /**
   * Sends PlaceOrder to the command side, then asks the command side for the order's
   * outcome, which it answers from the log (not from the read model). `acceptedAt` is
   * `performance.now()` (ms) when the 202 (or 200) arrived.
   */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** `GET /customers/<id>/orders` on the query side: the customer's orders as the read model has them so far, oldest first. */
  customerOrders(customerId: string): Promise<OrderRecord[]>;
  close(): Promise<void>;
}

export interface CqrsClientSettings {
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** Deadline of the whole order: accepted and terminal in the log. */
  readonly timeoutMs: number;
}

function pool(address: Address, settings: CqrsClientSettings): Dispatcher {
  return new Pool(`http://${address.host}:${address.port}`, {
    connections: settings.connections,
    pipelining: 1,
    connect: { timeout: settings.connectTimeoutMs, noDelay: true },
    headersTimeout: settings.timeoutMs + 1000,
    bodyTimeout: settings.timeoutMs + 1000,
  }).compose(traceContext);
}

/** The client of the CQRS pattern: undici pools to the command handler and to the read model, keep-alive, noDelay. */
export function createCqrsClient(commands: Address, queries: Address, settings: CqrsClientSettings): CqrsClient {
  const commandPool = pool(commands, settings);
  const queryPool = pool(queries, settings);

  const accept = async (order: OrderRequest): Promise<number> => {
    const { statusCode, body } = await commandPool.request({ method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    if (statusCode !== 202 && statusCode !== 200) throw new OrderFailedError(order.orderId, `HTTP_${statusCode}`, await body.text());
    await body.dump();
    return performance.now();
  };

  // The outcome from the write side (the command handler follows the log): the read model is not asked, so it may still lag.
  const terminal = async (orderId: string, deadline: number): Promise<OrderVerdict> => {
    for (;;) {
      const waitMs = Math.max(1, Math.min(MAX_OUTCOME_WAIT_MS, Math.round(deadline - performance.now())));
      const { statusCode, body } = await commandPool.request({ method: 'GET', path: `/orders/${encodeURIComponent(orderId)}?wait=${waitMs}` });
      const verdict = statusCode === 200 ? ((await body.json()) as OrderVerdict) : (await body.dump(), undefined);
      if (statusCode !== 200 && statusCode !== 202 && statusCode !== 404) throw new OrderFailedError(orderId, `HTTP_${statusCode}`, 'the command side refused the outcome query');
      if (verdict && isTerminal(verdict.status)) return verdict;
      if (performance.now() >= deadline) throw new OrderFailedError(orderId, 'ETIMEDOUT', `no outcome in the log within ${settings.timeoutMs} ms`);
    }
  };

  const customerOrders = async (customerId: string): Promise<OrderRecord[]> => {
    const { statusCode, body } = await queryPool.request({ method: 'GET', path: `/customers/${encodeURIComponent(customerId)}/orders` });
    if (statusCode !== 200) throw new ReadFailedError(customerId, `HTTP_${statusCode}`, await body.text());
    return (await body.json()) as OrderRecord[];
  };

  return {
    customerOrders,
    placeOrder: async (order) => {
      const deadline = performance.now() + settings.timeoutMs;
      const acceptedAt = await accept(order);
      const { status, reason } = await terminal(order.orderId, deadline);
      return reason ? { orderId: order.orderId, status, reason, acceptedAt } : { orderId: order.orderId, status, acceptedAt };
    },
    close: async () => {
      await Promise.all([commandPool.destroy(), queryPool.destroy()]);
    },
  };
}
