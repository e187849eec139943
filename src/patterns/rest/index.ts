import { OrderFailedError } from '../../errors.js';
import type { HostModule } from '../../placement/index.js';
import { startSynchronous } from '../../placement/synchronous.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import type { Address, Pattern, Placement } from '../types.js';
import { createPool, REST_DEFAULTS, startRestServices, type RestInit, type RestSettings } from './services.js';

export { REST_DEFAULTS, startRestServices, type RestInit, type RestSettings } from './services.js';

/** Where a worker finds the REST services (services.ts from the sources, services.js when built). */
export const REST_HOST: HostModule<RestInit> = {
  url: new URL('./services.js', import.meta.url),
  exportName: 'startRestServices',
  factory: startRestServices,
};

/**
 * Where the REST services run unless the run says (`--placement`): worker threads. Measured
 * with `node dist/src/cli.js run --patterns rest,grpc --scenarios baseline --placement …`
 * (5 s, 10 concurrent orders, 4 alternating rounds, medians, 2-core machine): 4,135
 * orders/s (p50 1.9 ms, p99 8.5 ms) in worker threads vs 3,433 (p50 2.7 ms, p99 6.0 ms) in
 * the load generator's event loop; warm, in paired rounds (`node dist/bench/transport.js
 * --compare-placement`), 5,001 vs 3,325.
 */
export const REST_DEFAULT_PLACEMENT: Placement = 'worker';

/** The client's side of the client → orders hop. */
export interface RestClient {
  /** POST /orders; resolves with the terminal outcome (201, or 200 for a retried order). */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** Send `{}`, which orders refuses (400) before any effect: a warm-up request. */
  refused(): Promise<void>;
  close(): Promise<void>;
}

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
    close: () => pool.destroy(),
  };
}

/** The REST pattern with other timeouts or limits (tests use short deadlines). */
export function createRestPattern(overrides: Partial<RestSettings> = {}): Pattern {
  const settings: RestSettings = { ...REST_DEFAULTS, ...overrides };
  return {
    id: 'rest',
    resilient: true,
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
    start: (ctx) =>
      startSynchronous(ctx, {
        module: REST_HOST,
        init: { world: ctx.world, settings, resilience: ctx.options.resilience ?? 'default', seed: ctx.random.int(0, 2 ** 31) } satisfies RestInit,
        defaultPlacement: REST_DEFAULT_PLACEMENT,
        hop: 'rest:orders',
        protocol: 'HTTP/1.1',
        encoding: 'JSON',
        connect: (address) => createRestClient(address, settings),
      }),
  };
}

/** REST: JSON over HTTP/1.1 keep-alive, node:http servers, undici pools. */
export const restPattern: Pattern = createRestPattern();
