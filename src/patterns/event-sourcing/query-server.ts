import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK_ANY_PORT, type Address } from '../../net/address.js';
import type { WireMeter } from '../../wire/meter.js';
import { isTerminal } from '../../workflow/types.js';
import { sendJson } from '../rest/http.js';
import { meterHttpServer } from '../../wire/http.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { OrdersReadModel, OrderView } from './read-model.js';

/** The longest a `?wait=` read is held, ms: a client that wants longer asks again. */
export const MAX_WAIT_MS = 30_000;

export interface QueryServer {
  readonly address: Address;
  /** The read model made an order terminal: answer the reads waiting for it. */
  terminal(view: OrderView): void;
  close(): Promise<void>;
}

/** `GET /customers/<id>/orders`, the customer id (URI-encoded) in group 1. */
const CUSTOMER_ORDERS = /^\/customers\/([^/]+)\/orders$/;

/** One order of a customer's list as the query side answers it (the OrderRecord shape). */
export function customerOrder(view: OrderView): OrderRecord {
  return view.reason === undefined ? { orderId: view.orderId, status: view.status } : { orderId: view.orderId, status: view.status, reason: view.reason };
}

type Waiting = Map<string, Set<{ res: ServerResponse; timer: NodeJS.Timeout }>>;

const answer = (res: ServerResponse, view: OrderView | undefined): void => (view ? sendJson(res, 200, view) : sendJson(res, 404, { error: 'no such order' }));

/** `GET /orders/<id>[?wait=<ms>]`: the row now, or once it is terminal or `ms` passed. */
function answerOrder(readModel: OrdersReadModel, waiting: Waiting, url: URL, res: ServerResponse): void {
  const orderId = decodeURIComponent(url.pathname.slice('/orders/'.length));
  const view = readModel.get(orderId);
  const waitMs = Math.min(MAX_WAIT_MS, Number(url.searchParams.get('wait') ?? 0) || 0);
  if (waitMs <= 0 || (view && isTerminal(view.status))) return answer(res, view);
  const set = waiting.get(orderId) ?? new Set();
  waiting.set(orderId, set);
  const entry = {
    res,
    timer: setTimeout(() => {
      set.delete(entry);
      if (set.size === 0) waiting.delete(orderId);
      answer(res, readModel.get(orderId));
    }, waitMs),
  };
  set.add(entry);
  res.once('close', () => {
    clearTimeout(entry.timer);
    set.delete(entry);
    if (set.size === 0) waiting.delete(orderId);
  });
}

/** `GET /customers/<id>/orders`: the customer's orders so far; 400 for an id that is not valid URI encoding. */
function answerCustomer(readModel: OrdersReadModel, encodedId: string, res: ServerResponse): void {
  let customerId: string;
  try {
    customerId = decodeURIComponent(encodedId);
  } catch {
    return sendJson(res, 400, { error: `not a URI-encoded customer id: ${encodedId}` });
  }
  sendJson(res, 200, readModel.forCustomer(customerId).map(customerOrder));
}

/**
 * The query side of CQRS on node:http, 127.0.0.1:0 (or `at`): `GET /orders/<id>` answers the read
 * model's row (404 if unknown); `GET /orders/<id>?wait=<ms>` holds the answer until the
 * row is terminal or `ms` passed (then it answers what the row is, 404 if none yet): how a
 * client learns the outcome of a command without polling. `GET /customers/<id>/orders`
 * answers the customer's orders `[{orderId, status, reason?}]`, oldest first (`[]` for an
 * unknown customer): what the projection has applied so far, eventually consistent.
 */
export async function startQueryServer(readModel: OrdersReadModel, meter: WireMeter, at: Address = LOOPBACK_ANY_PORT): Promise<QueryServer> {
  const waiting: Waiting = new Map();
  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://query');
    if (req.method === 'GET' && url.pathname.startsWith('/orders/')) return answerOrder(readModel, waiting, url, res);
    const customer = req.method === 'GET' ? CUSTOMER_ORDERS.exec(url.pathname)?.[1] : undefined;
    if (customer !== undefined) return answerCustomer(readModel, customer, res);
    sendJson(res, 404, { error: `no resource ${req.method ?? ''} ${url.pathname}` });
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
    terminal: (view) => {
      const set = waiting.get(view.orderId);
      if (!set) return;
      waiting.delete(view.orderId);
      for (const entry of set) {
        clearTimeout(entry.timer);
        answer(entry.res, view);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const set of waiting.values()) for (const entry of set) clearTimeout(entry.timer);
        waiting.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
