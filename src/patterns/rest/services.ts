import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { HostFactory, RoleInit, ServiceHost } from '../../placement/host.js';
import { WARM_UP_CALLS, warmUp } from '../../placement/warmup.js';
import type { WireMeter } from '../../wire/meter.js';
import { createServices, snapshotServices, type World } from '../../workflow/services.js';
import type { ChargeResult, ReserveResult, TerminalStatus } from '../../workflow/types.js';
import { runOrderWorkflow, type WorkflowPorts } from '../../workflow/workflow.js';
import { RESILIENCE_POLICIES, withResilience, type ResiliencePolicy } from '../../resilience/policies.js';
import { seededRandom } from '../../random.js';
import type { Address } from '../types.js';
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

export interface RestInit extends RoleInit {
  /** Resilience policy of the orders service's hops (see src/resilience). Default `default`. */
  readonly resilience?: ResiliencePolicy['name'];
  /** Seed of the policy's jitter. */
  readonly seed?: number;
  readonly world: World;
  readonly settings: RestSettings;
}

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

/** An undici pool to one service, with the pattern's timeouts. */
export function createPool(address: Address, settings: RestSettings, timeoutMs: number): Pool {
  return new Pool(`http://${address.host}:${address.port}`, {
    connections: settings.poolConnections,
    pipelining: 1,
    connect: { timeout: settings.connectTimeoutMs, noDelay: true },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

export type Handler = (req: IncomingMessage, res: ServerResponse, id: string | undefined) => Promise<void> | void;
export type Routes = Readonly<Record<string, Partial<Record<string, Handler>>>>;

/**
 * A node:http server for one service on 127.0.0.1:0. `routes` maps a collection
 * (`/orders`) to handlers by method; `/orders/<id>` passes `<id>` to the handler.
 */
export async function serve(name: string, routes: Routes, meter: WireMeter): Promise<{ server: Server; address: Address }> {
  const server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    meter.countMessages(2); // the request and its response
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
  });
  meter.meterServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, address: { host: '127.0.0.1', port } };
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
 * The REST services: orders, inventory, payments and notifications, each its own
 * node:http server. Orders runs the shared workflow with ports that call the others over
 * undici pools, dialled at the addresses the run's network routes them to. `role` (default
 * `all`) selects the downstream services or orders alone (see placeServices).
 */
export const startRestServices: HostFactory<RestInit> = async (
  { world, settings, role = 'all', downstream, resilience = 'default', seed = 0 },
  { network, meter },
) => {
  const services = createServices(world);
  const { orders, inventory, payments, notifications } = services;
  const max = settings.maxBodyBytes;
  const servers: Server[] = [];
  const pools: Pool[] = [];
  const hopErrors: Record<string, number> = {};
  const stop = () => closeAll(servers, pools);

  const started = async (name: string, routes: Routes) => {
    const s = await serve(name, routes, meter);
    servers.push(s.server);
    return s.address;
  };

  const startDownstream = async (): Promise<Record<string, Address>> => {
    const inventoryAt = await started('inventory', {
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
    });
    const paymentsAt = await started('payments', {
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
    });
    const notificationsAt = await started('notifications', {
      '/notifications': {
        POST: async (req, res) => {
          const { orderId, status } = parseNotification(await readJson(req, max));
          notifications.notify(orderId, status);
          sendJson(res, 204);
        },
      },
    });
    return { 'rest:inventory': inventoryAt, 'rest:payments': paymentsAt, 'rest:notifications': notificationsAt };
  };

  try {
    let targets: Readonly<Record<string, Address>> | undefined = downstream;
    if (role !== 'orders') {
      targets = await startDownstream();
      if (role === 'downstream') {
        const host: ServiceHost = {
          address: targets['rest:inventory'] as Address,
          hops: targets,
          snapshot: async () => snapshotServices(services),
          hopErrors: () => ({}),
          stop,
        };
        return host;
      }
    }
    const pool = async (hop: string) => {
      const target = targets?.[hop];
      if (!target) throw new Error(`no address for ${hop}`);
      // Role `orders` is handed its addresses already routed.
      const p = createPool(role === 'orders' ? target : await network.route(hop, target), settings, settings.hopTimeoutMs);
      pools.push(p);
      return p;
    };
    const inventoryPool = await pool('rest:inventory');
    const paymentsPool = await pool('rest:payments');
    const notificationsPool = await pool('rest:notifications');

    const call = async (p: Pool, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<number> => {
      const { statusCode, body: stream } = await p.request({
        method,
        path,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      await stream.dump();
      return statusCode;
    };
    const expect = (status: number, ok: number, what: string) => {
      if (status !== ok) throw new HttpStatusError(status, what);
    };
    const bare: WorkflowPorts = {
      reserve: async (order): Promise<ReserveResult> => {
        const status = await call(inventoryPool, 'POST', '/reservations', { orderId: order.orderId, items: order.items });
        if (status === 409) return { ok: false, reason: 'out_of_stock' };
        expect(status, 201, 'POST /reservations');
        return { ok: true };
      },
      release: async (orderId) => expect(await call(inventoryPool, 'DELETE', `/reservations/${encodeURIComponent(orderId)}`), 204, 'DELETE /reservations'),
      charge: async (order): Promise<ChargeResult> => {
        const { orderId, customerId, amountCents } = order;
        const status = await call(paymentsPool, 'POST', '/charges', { orderId, customerId, amountCents });
        if (status === 402) return { ok: false, reason: 'payment_declined' };
        expect(status, 201, 'POST /charges');
        return { ok: true };
      },
      refund: async (orderId) => expect(await call(paymentsPool, 'DELETE', `/charges/${encodeURIComponent(orderId)}`), 204, 'DELETE /charges'),
      notify: async (orderId, status: TerminalStatus) =>
        expect(await call(notificationsPool, 'POST', '/notifications', { orderId, status }), 204, 'POST /notifications'),
    };
    const ports = withResilience(bare, RESILIENCE_POLICIES[resilience], seededRandom(seed), (hop, event) => {
      hopErrors[`${hop}:${event}`] = (hopErrors[`${hop}:${event}`] ?? 0) + 1;
    });
    // Requests the downstream services refuse (400) before any effect: they warm the code paths.
    const warmed: [Pool, string][] = [
      [inventoryPool, '/reservations'],
      [paymentsPool, '/charges'],
      [notificationsPool, '/notifications'],
    ];
    await Promise.all(warmed.map(([p, path]) => warmUp(WARM_UP_CALLS, 10, async () => expect(await call(p, 'POST', path, {}), 400, `POST ${path}`))));
    const onHopError = (hop: string, err: unknown) => {
      const kind = `${hop}:${errorKind(err)}`;
      hopErrors[kind] = (hopErrors[kind] ?? 0) + 1;
    };

    const ordersAt = await started('orders', {
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
    });

    const host: ServiceHost = {
      address: ordersAt,
      snapshot: async () => snapshotServices(services),
      hopErrors: () => ({ ...hopErrors }),
      stop,
    };
    return host;
  } catch (err) {
    await stop();
    throw err;
  }
};

async function closeAll(servers: Server[], pools: Pool[]): Promise<void> {
  // Orders first (started last), so no workflow is left calling a closed downstream.
  for (const server of servers.splice(0).reverse()) await closeServer(server);
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
}
