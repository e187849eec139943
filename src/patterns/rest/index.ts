import { OrderFailedError } from '../../errors.js';
import type { ComponentModule } from '../../placement/component.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import { startSynchronous } from '../synchronous.js';
import type { Address, Pattern } from '../types.js';
import { createPool, HttpStatusError, REST_DEFAULTS, startRestService, type RestServiceApi, type RestServiceInit, type RestSettings } from './services.js';

export { REST_DEFAULTS, startRestService, type RestServiceApi, type RestServiceInit, type RestSettings } from './services.js';

/** Where a worker finds the REST services (services.ts from the sources, services.js when built). */
export const REST_SERVICE: ComponentModule<RestServiceInit, RestServiceApi> = {
  url: new URL('./services.js', import.meta.url),
  exportName: 'startRestService',
  factory: startRestService,
};

/** The client's side of the client → orders hop. */
export interface RestClient {
  /** POST /orders; resolves with the terminal outcome (201, or 200 for a retried order). */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** Send `{}`, which orders refuses (400) before any effect: a warm-up request. */
  refused(): Promise<void>;
  /** GET /customers/:id/orders: the customer's orders, oldest first. */
  customerOrders(customerId: string): Promise<OrderRecord[]>;
  close(): Promise<void>;
}

/** REST's read path (OrderReader.readPath). */
export const REST_READ_PATH = 'GET /customers/:id/orders to the orders service, JSON [{orderId,status,reason?}], from the client\'s undici pool';

export function createRestClient(address: Address, settings: RestSettings = REST_DEFAULTS): RestClient {
  const pool = createPool(address, settings, settings.clientTimeoutMs);
  return {
    placeOrder: async (order) => {
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
      if (statusCode === 201 || statusCode === 200) return (await body.json()) as OrderOutcome;
      throw new OrderFailedError(order.orderId, `HTTP_${statusCode}`, await body.text());
    },
    refused: async () => {
      const { statusCode, body } = await pool.request({ method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: '{}' });
      await body.dump();
      if (statusCode !== 400) throw new Error(`a warm-up request was answered ${statusCode}, not 400`);
    },
    customerOrders: async (customerId) => {
      const { statusCode, body } = await pool.request({ method: 'GET', path: `/customers/${encodeURIComponent(customerId)}/orders` });
      if (statusCode === 200) return (await body.json()) as OrderRecord[];
      await body.dump();
      throw new HttpStatusError(statusCode, `GET /customers/${customerId}/orders`);
    },
    close: () => pool.destroy(),
  };
}

/** The REST pattern with other timeouts or limits (tests use short deadlines). */
export function createRestPattern(overrides: Partial<RestSettings> = {}): Pattern {
  const settings: RestSettings = { ...REST_DEFAULTS, ...overrides };
  return {
    id: 'rest',
    resilient: true,
    readPath: REST_READ_PATH,
    title: 'REST (HTTP/1.1 + JSON)',
    summary: 'Synchronous request/response: orders POSTs to inventory and payments over keep-alive HTTP/1.1 with JSON bodies.',
    tradeOffs: {
      pros: [
        'Universally understood; every language, proxy, cache and debugger speaks it',
        'Status codes carry the business answer (409 out of stock, 402 declined)',
        'Each hop is a plain request you can replay with curl',
      ],
      cons: [
        'The caller waits for the whole chain: latencies and failures add up hop by hop',
        'JSON text and HTTP/1.1 headers cost bytes and CPU on every call',
        'One request per connection at a time (no multiplexing): pools of sockets',
      ],
      whenToUse: 'Public or cross-team APIs, CRUD-shaped services, and call chains that are short and must answer now.',
    },
    start: (ctx) => {
      const resilience = ctx.options.resilience ?? 'default';
      const seed = ctx.random.int(0, 2 ** 31);
      return startSynchronous<RestServiceInit>(ctx, {
        module: REST_SERVICE,
        prefix: 'rest',
        listen: 'http',
        downstream: (service) => ({ service, world: ctx.world, settings }),
        orders: (downstream) => ({ service: 'orders', settings, downstream, resilience, seed }),
        protocol: 'HTTP/1.1',
        encoding: 'JSON',
        readPath: REST_READ_PATH,
        connect: (address) => createRestClient(address, settings),
      });
    },
  };
}

/** REST: JSON over HTTP/1.1 keep-alive, node:http servers, undici pools. */
export const restPattern: Pattern = createRestPattern();
