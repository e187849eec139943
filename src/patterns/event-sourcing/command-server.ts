import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extractTrace, withSpan } from '../../tracing/index.js';
import { WireMeter } from '../../wire/meter.js';
import type { OrderRequest } from '../../workflow/types.js';
import { HttpError, readJson, sendError, sendJson } from '../rest/http.js';
import { parseOrder } from '../rest/validate.js';
import { meterHttpServer } from '../../wire/http.js';
import type { Address } from '../types.js';
import { LOOPBACK_ANY_PORT } from '../../net/address.js';
import { orderStream } from './events.js';
import { OrderAggregate } from './order-aggregate.js';
import type { OrderOutcomes } from './outcomes.js';
import type { Repository } from './repository.js';

const MAX_BODY_BYTES = 64 * 1024;
/** The longest a `?wait=` is held, ms: a client that wants longer asks again. */
export const MAX_OUTCOME_WAIT_MS = 30_000;
/** `GET /orders/<id>`, the order id (URI-encoded) in group 1. */
const ORDER_OUTCOME = /^\/orders\/([^/?]+)(?:\?|$)/;

export interface CommandServer {
  readonly address: Address;
  /** PlaceOrder commands that named an order that already existed (a retried command). */
  readonly duplicates: () => number;
  close(): Promise<void>;
}

/** `GET /orders/<id>?wait=<ms>`: 200 with the verdict, 202 `{status: 'PENDING'}` when none came in time, 404 for an order the log does not have. */
async function answerOutcome(outcomes: OrderOutcomes, encodedId: string, url: string, res: ServerResponse): Promise<void> {
  let orderId: string;
  try {
    orderId = decodeURIComponent(encodedId);
  } catch {
    throw new HttpError(400, `not a URI-encoded order id: ${encodedId}`);
  }
  const waitMs = Math.min(MAX_OUTCOME_WAIT_MS, Number(new URL(url, 'http://orders').searchParams.get('wait') ?? 0) || 0);
  const verdict = await outcomes.wait(orderId, waitMs);
  if (verdict === null) return sendJson(res, 404, { error: `no order ${orderId}` });
  sendJson(res, verdict ? 200 : 202, verdict ?? { orderId, status: 'PENDING' });
}

/**
 * The orders command handler (the C of CQRS) on node:http, 127.0.0.1:0 (or `at`): `POST /orders`
 * (PlaceOrder) appends OrderCreated to a new order stream (expected version 0) and answers
 * 202 once it is appended; 200 for an order that exists already. `GET /orders/<id>?wait=<ms>`
 * answers the order's outcome from the write side (OrderOutcomes: its terminal event in
 * the log), holding the answer until there is one or `ms` passed. Reads of a customer's
 * orders are the query side's (query-server.ts), eventually consistent.
 */
export async function startCommandServer(repo: Repository, outcomes: OrderOutcomes, meter: WireMeter, at: Address = LOOPBACK_ANY_PORT): Promise<CommandServer> {
  let duplicates = 0;
  // A new order needs no read: the append expects version 0, and a stream that exists already is a repeated command.
  const place = (order: OrderRequest): Promise<boolean> => repo.create(orderStream(order.orderId), OrderAggregate.place(null, order));

  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    const url = req.url ?? '/';
    const work = async () => {
      try {
        if (req.method === 'POST' && url === '/orders') {
          const order = parseOrder(await readJson(req, MAX_BODY_BYTES));
          outcomes.created(order.orderId);
          const created = await place(order);
          if (!created) duplicates++;
          return sendJson(res, created ? 202 : 200, { orderId: order.orderId, accepted: true });
        }
        req.resume();
        const outcome = req.method === 'GET' ? ORDER_OUTCOME.exec(url)?.[1] : undefined;
        if (outcome !== undefined) return await answerOutcome(outcomes, outcome, url, res);
        throw new HttpError(404, `no resource ${req.method ?? ''} ${url}`);
      } catch (err) {
        if (!res.headersSent) sendError(res, err);
      }
    };
    // Traced only when the client sent a traceparent: the command handler's part (PlaceOrder, or the wait for its outcome).
    if (req.headers.traceparent === undefined) return void work();
    const span =
      req.method === 'GET'
        ? { name: 'orders: await outcome', operation: 'GET /orders/:id?wait', bytes: 0 }
        : { name: 'orders: PlaceOrder', operation: 'POST /orders', bytes: Number(req.headers['content-length'] ?? 0) };
    void withSpan(span.name, { service: 'orders', operation: span.operation, bytes: span.bytes }, work, extractTrace(req.headers));
  });
  meterHttpServer(meter, server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: at.host, port },
    duplicates: () => duplicates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
