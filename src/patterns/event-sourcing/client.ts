import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { OrderFailedError } from '../../errors.js';
import type { OrderRequest } from '../../workflow/types.js';
import type { Address } from '../types.js';

export interface CommandClient {
  /** Sends PlaceOrder; resolves with `performance.now()` (ms) when the 202 (or 200) arrived: the accept time. */
  place(order: OrderRequest): Promise<number>;
  close(): Promise<void>;
}

export interface CommandClientSettings {
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
}

/** The client's side of the client → orders command hop: an undici Pool, keep-alive, noDelay. */
export function createCommandClient(address: Address, settings: CommandClientSettings): CommandClient {
  const pool = new Pool(`http://${address.host}:${address.port}`, {
    connections: settings.connections,
    pipelining: 1,
    connect: { timeout: settings.connectTimeoutMs, noDelay: true },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
  return {
    place: async (order) => {
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
      if (statusCode === 202 || statusCode === 200) {
        await body.dump();
        return performance.now();
      }
      throw new OrderFailedError(order.orderId, `HTTP_${statusCode}`, await body.text());
    },
    close: () => pool.destroy(),
  };
}
