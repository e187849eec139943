import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import type { Address } from '../../net/address.js';
import type { ComponentEnv, ComponentFactory, RunningComponent } from '../../placement/component.js';
import { WARM_UP_CALLS, warmUpOnce } from '../../placement/warmup.js';
import { seededRandom } from '../../random.js';
import { RESILIENCE_POLICIES, withResilience, type ResiliencePolicy } from '../../resilience/policies.js';
import { context } from '@opentelemetry/api';
import { endSpan, extractTrace, openSpan } from '../../tracing/index.js';
import { traceContext } from '../../tracing/undici.js';
import { meterHttpServer } from '../../wire/http.js';
import type { WireMeter } from '../../wire/meter.js';
import { InventoryService } from '../../workflow/inventory.js';
import { NotificationsService } from '../../workflow/notifications.js';
import { OrdersService } from '../../workflow/orders.js';
import { PaymentsService } from '../../workflow/payments.js';
import type { World } from '../../workflow/services.js';
import type { ChargeResult, ReserveResult, TerminalStatus } from '../../workflow/types.js';
import { runOrderWorkflow, type WorkflowPorts } from '../../workflow/workflow.js';
import type { CrashableApi, ErrorsApi, ServiceApi } from '../service-api.js';
import { ErrorRate } from '../transient.js';
import { HttpError, readJson, sendError, sendJson } from './http.js';
import { parseCharge, parseNotification, parseOrder, parseReservation } from './validate.js';

/** Timeouts and limits of the REST pattern. ms and bytes. */
export interface RestSettings {
  /** TCP connect timeout of every pool. Default 1000. */
  readonly connectTimeoutMs: number;
  /** Deadline of one orders → downstream call (headers, then body). Default 2000. */
  readonly hopTimeoutMs: number;
  /** Deadline of the client → orders call (the whole workflow). Default 10 000. */
  readonly clientTimeoutMs: number;
  /** Largest request body a server reads. Default 64 KiB. */
  readonly maxBodyBytes: number;
  /** Connections per pool. Default 64. */
  readonly poolConnections: number;
}

export const REST_DEFAULTS: RestSettings = {
  connectTimeoutMs: 1000,
  hopTimeoutMs: 2000,
  clientTimeoutMs: 10_000,
  maxBodyBytes: 64 * 1024,
  poolConnections: 64,
};

/**
 * Where a service listens. Default 127.0.0.1 on an ephemeral port (every run);
 * `pattern-bench serve` gives its --host and --port.
 */
export interface ListenAt {
  readonly host: string;
  readonly port: number;
}

const LOOPBACK_ANY_PORT: ListenAt = { host: '127.0.0.1', port: 0 };

/** What starts one REST service: a downstream one from the world, or orders with its downstream addresses (already routed). */
export type RestServiceInit =
  | { readonly service: 'inventory' | 'payments' | 'notifications'; readonly world: World; readonly settings: RestSettings; readonly listen?: ListenAt }
  | {
      readonly service: 'orders';
      readonly listen?: ListenAt;
      readonly settings: RestSettings;
      readonly downstream: { readonly inventory: Address; readonly payments: Address; readonly notifications: Address };
      /** Resilience policy of the orders service's hops (see src/resilience). */
      readonly resilience: ResiliencePolicy['name'];
      /** Seed of the policy's jitter. */
      readonly seed: number;
    };

export type RestServiceApi = ServiceApi & CrashableApi & ErrorsApi;

/** A downstream answered with a status the port does not expect (5xx, 400…). */
export class HttpStatusError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what} answered HTTP ${status}`);
    this.name = 'HttpStatusError';
    this.code = `HTTP_${status}`;
  }
}

const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };

/** An undici pool to one service, with the pattern's timeouts; a traced order's requests carry its traceparent (the interceptor). */
export function createPool(address: Address, settings: RestSettings, timeoutMs: number): Dispatcher {
  return new Pool(`http://${address.host}:${address.port}`, {
    connections: settings.poolConnections,
    pipelining: 1,
    connect: { timeout: settings.connectTimeoutMs, noDelay: true },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  }).compose(traceContext);
}

export type Handler = (req: IncomingMessage, res: ServerResponse, id: string | undefined) => Promise<void> | void;
export type Routes = Readonly<Record<string, Partial<Record<string, Handler>>>>;

/** A node:http server that can die abruptly and listen again on the same port (its state is the service's, and survives). */
export interface RestServer {
  readonly server: Server;
  readonly address: Address;
  /** Close now, dropping every connection and the requests on them; listen again after `downMs`. */
  crash(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A node:http server for one service on 127.0.0.1:0 (or `at`). `routes` maps a collection
 * (`/orders`) to handlers by method; `/orders/<id>` passes `<id>` to the handler.
 */
export async function serve(name: string, routes: Routes, meter: WireMeter, errors?: ErrorRate, at: ListenAt = LOOPBACK_ANY_PORT): Promise<RestServer> {
  const server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    // The flaky scenario: "try again" before anything is done.
    if (errors?.fail()) {
      req.resume();
      return sendJson(res, 503, { error: `${name} is temporarily unavailable` });
    }
    // Traced only when the caller sent a traceparent (tracing off: one header lookup).
    const opened = req.headers.traceparent === undefined ? undefined : openSpan(`${name}: ${req.method} ${collectionOf(req.url)}`, {
      service: name,
      operation: `${req.method} ${collectionOf(req.url)}`,
      bytes: Number(req.headers['content-length'] ?? 0),
    }, extractTrace(req.headers));
    if (!opened) return route(name, routes, meter, req, res);
    res.once('close', () => endSpan(opened.span));
    context.with(opened.ctx, () => route(name, routes, meter, req, res));
  });
  // Bytes, and HTTP/1.1 messages as they cross the sockets: each request node parsed off one, each response written to one.
  meterHttpServer(meter, server);
  await listen(server, at.host, at.port);
  const { port } = server.address() as AddressInfo;
  let restart: NodeJS.Timeout | undefined;
  return {
    server,
    address: { host: at.host, port },
    crash: async (downMs) => {
      await closeServer(server);
      restart = setTimeout(() => {
        restart = undefined;
        listen(server, at.host, port).catch(() => undefined); // taken meanwhile: the service stays down, and the run shows it
      }, downMs);
    },
    close: async () => {
      if (restart) clearTimeout(restart);
      restart = undefined;
      if (server.listening) await closeServer(server);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** `/orders` of `/orders/ord-1`. */
function collectionOf(url = '/'): string {
  const slash = url.indexOf('/', 1);
  return slash < 0 ? url : url.slice(0, slash);
}

function route(name: string, routes: Routes, meter: WireMeter, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const slash = url.indexOf('/', 1);
  const collection = slash < 0 ? url : url.slice(0, slash);
  let id: string | undefined;
  try {
    id = slash < 0 ? undefined : decodeURIComponent(url.slice(slash + 1));
  } catch {
    req.resume();
    return sendJson(res, 400, { error: `malformed path ${url}` });
  }
  const handlers = routes[collection];
  const handler = handlers?.[req.method ?? ''];
  if (!handlers || (id !== undefined && id.length === 0)) {
    req.resume();
    return sendJson(res, 404, { error: `${name} has no resource ${url}` });
  }
  if (!handler) {
    req.resume();
    res.setHeader('allow', Object.keys(handlers).join(', '));
    return sendJson(res, 405, { error: `${req.method} is not allowed on ${collection}` });
  }
  try {
    const done = handler(req, res, id);
    if (done) done.catch((err: unknown) => sendError(res, err));
  } catch (err) {
    sendError(res, err);
  }
}

function requireId(id: string | undefined, what: string): string {
  if (id === undefined) throw new HttpError(404, `${what} needs an order id in the path`);
  return id;
}

export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** What a hop error is called in the counts: the error's code, or its name. */
export function errorKind(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * One REST service as a component: inventory, payments or notifications with their own
 * state from the world, or orders, which runs the shared workflow with ports that call
 * the others over undici pools at the (routed) addresses it is given.
 */
export const startRestService: ComponentFactory<RestServiceInit, RestServiceApi> = async (init, env) => {
  const errors = new ErrorRate(env.random.fork());
  if (init.service === 'orders') return startOrders(init, env, errors);
  const { served, snapshot } = await startDownstream(init, env, errors);
  return serviceComponent(served, errors, snapshot, () => ({}));
};

function serviceComponent(served: RestServer, errors: ErrorRate, snapshot: RestServiceApi['snapshot'], hopErrors: RestServiceApi['hopErrors'], stopMore?: () => Promise<void>): RunningComponent<RestServiceApi> {
  return {
    addresses: { http: served.address },
    api: { snapshot, hopErrors, crash: (downMs: number) => served.crash(downMs), errors: (share: number) => errors.set(share) },
    stop: async () => {
      await served.close();
      await stopMore?.();
    },
  };
}

async function startDownstream(init: Extract<RestServiceInit, { service: 'inventory' | 'payments' | 'notifications' }>, { meter }: ComponentEnv, errors: ErrorRate) {
  const max = init.settings.maxBodyBytes;
  if (init.service === 'inventory') {
    const inventory = new InventoryService(init.world.stock);
    const served = await serve('inventory', {
      '/reservations': {
        POST: async (req, res) => {
          const { orderId, items } = parseReservation(await readJson(req, max));
          const result = inventory.reserve(orderId, items);
          sendJson(res, result.ok ? 201 : 409, result.ok ? { orderId } : { error: result.reason });
        },
        DELETE: (req, res, id) => {
          req.resume();
          inventory.release(requireId(id, 'release'));
          sendJson(res, 204);
        },
      },
    }, meter, errors, init.listen);
    return { served, snapshot: () => ({ inventory: inventory.snapshot() }) };
  }
  if (init.service === 'payments') {
    const payments = new PaymentsService(init.world.balances);
    const served = await serve('payments', {
      '/charges': {
        POST: async (req, res) => {
          const { orderId, customerId, amountCents } = parseCharge(await readJson(req, max));
          const result = payments.charge(orderId, customerId, amountCents);
          sendJson(res, result.ok ? 201 : 402, result.ok ? { orderId } : { error: result.reason });
        },
        DELETE: (req, res, id) => {
          req.resume();
          payments.refund(requireId(id, 'refund'));
          sendJson(res, 204);
        },
      },
    }, meter, errors, init.listen);
    return { served, snapshot: () => ({ payments: payments.snapshot() }) };
  }
  const notifications = new NotificationsService();
  const served = await serve('notifications', {
    '/notifications': {
      POST: async (req, res) => {
        const { orderId, status } = parseNotification(await readJson(req, max));
        notifications.notify(orderId, status);
        sendJson(res, 204);
      },
    },
  }, meter, errors, init.listen);
  return { served, snapshot: () => ({ notifications: notifications.snapshot() }) };
}

async function startOrders(init: Extract<RestServiceInit, { service: 'orders' }>, { meter }: ComponentEnv, errors: ErrorRate): Promise<RunningComponent<RestServiceApi>> {
  const { settings, downstream } = init;
  const orders = new OrdersService();
  const hopErrors: Record<string, number> = {};
  const count = (kind: string) => (hopErrors[kind] = (hopErrors[kind] ?? 0) + 1);
  const pools = {
    inventory: createPool(downstream.inventory, settings, settings.hopTimeoutMs),
    payments: createPool(downstream.payments, settings, settings.hopTimeoutMs),
    notifications: createPool(downstream.notifications, settings, settings.hopTimeoutMs),
  };
  const closePools = () => Promise.all(Object.values(pools).map((p) => p.destroy())).then(() => undefined);
  try {
    const ports = withResilience(restPorts(pools), RESILIENCE_POLICIES[init.resilience], seededRandom(init.seed), (hop, event) => count(`${hop}:${event}`));
    // Requests the downstream services refuse (400) before any effect: they warm the code paths.
    const warmed: [Dispatcher, string][] = [[pools.inventory, '/reservations'], [pools.payments, '/charges'], [pools.notifications, '/notifications']];
    await Promise.all(warmed.map(([p, path]) => warmUpOnce(`rest-orders POST ${path}`, WARM_UP_CALLS, 10, async () => expectStatus(await call(p, 'POST', path, {}), 400, `POST ${path}`))));
    const onHopError = (hop: string, err: unknown) => count(`${hop}:${errorKind(err)}`);
    const max = settings.maxBodyBytes;
    const served = await serve('orders', {
      '/orders': {
        POST: async (req, res) => {
          const order = parseOrder(await readJson(req, max));
          // The client gave up (timed out and closed) while the request queued: shed it, cause no effect.
          if (res.destroyed) return;
          // A retried POST changes nothing: it gets the order's outcome, with 200 instead of 201.
          const replay = orders.get(order.orderId) !== undefined;
          const outcome = await runOrderWorkflow(orders, ports, order, onHopError);
          sendJson(res, replay ? 200 : 201, outcome);
        },
        GET: (req, res, id) => {
          req.resume();
          const record = orders.get(requireId(id, 'GET /orders'));
          if (!record) throw new HttpError(404, `no order ${JSON.stringify(id)}`);
          sendJson(res, 200, record);
        },
      },
      '/customers': { GET: (req, res, rest) => customerOrders(orders, req, res, rest) },
    }, meter, errors, init.listen);
    return serviceComponent(served, errors, () => ({ orders: orders.snapshot() }), () => ({ ...hopErrors }), closePools);
  } catch (err) {
    await closePools();
    throw err;
  }
}

/** The read side, `GET /customers/:id/orders`: the customer's orders, oldest first (`[]` for an unknown customer). */
function customerOrders(orders: OrdersService, req: IncomingMessage, res: ServerResponse, rest: string | undefined): void {
  req.resume();
  // The router hands over everything after `/customers/`, decoded: `<id>/orders`.
  const customerId = rest?.endsWith(CUSTOMER_ORDERS) ? rest.slice(0, -CUSTOMER_ORDERS.length) : '';
  if (customerId.length === 0) throw new HttpError(404, `no resource /customers/${rest ?? ''} (try /customers/<id>/orders)`);
  sendJson(res, 200, orders.forCustomer(customerId));
}

const CUSTOMER_ORDERS = '/orders';

async function call(p: Dispatcher, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<number> {
  const headers = body === undefined ? undefined : JSON_HEADERS;
  const { statusCode, body: stream } = await p.request({
    method,
    path,
    ...(headers === undefined ? {} : { headers }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await stream.dump();
  return statusCode;
}

function expectStatus(status: number, ok: number, what: string): void {
  if (status !== ok) throw new HttpStatusError(status, what);
}

/** The workflow's hops as REST calls: business refusals (409, 402) become results, anything unexpected throws. */
function restPorts(pools: { readonly inventory: Dispatcher; readonly payments: Dispatcher; readonly notifications: Dispatcher }): WorkflowPorts {
  return {
    charge: async ({ orderId, customerId, amountCents }): Promise<ChargeResult> => {
      const status = await call(pools.payments, 'POST', '/charges', { orderId, customerId, amountCents });
      if (status === 402) return { ok: false, reason: 'payment_declined' };
      expectStatus(status, 201, 'POST /charges');
      return { ok: true };
    },
    refund: async (orderId) => expectStatus(await call(pools.payments, 'DELETE', `/charges/${encodeURIComponent(orderId)}`), 204, 'DELETE /charges'),
    reserve: async (order): Promise<ReserveResult> => {
      const status = await call(pools.inventory, 'POST', '/reservations', { orderId: order.orderId, items: order.items });
      if (status === 409) return { ok: false, reason: 'out_of_stock' };
      expectStatus(status, 201, 'POST /reservations');
      return { ok: true };
    },
    release: async (orderId) => expectStatus(await call(pools.inventory, 'DELETE', `/reservations/${encodeURIComponent(orderId)}`), 204, 'DELETE /reservations'),
    notify: async (orderId, status: TerminalStatus) =>
      expectStatus(await call(pools.notifications, 'POST', '/notifications', { orderId, status }), 204, 'POST /notifications'),
  };
}
