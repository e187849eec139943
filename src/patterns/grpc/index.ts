import { OrderFailedError } from '../../errors.js';
import type { HostModule } from '../../placement/index.js';
import { startSynchronous } from '../../placement/synchronous.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import type { Address, Pattern, Placement } from '../types.js';
import { createClient, serverStream, statusName, unary } from './calls.js';
import type { OrderUpdate, PlaceOrderRequest } from './messages.js';
import { loadOrderProto } from './proto.js';
import { channelOptions, GRPC_DEFAULTS, refused, startGrpcServices, toOutcome, type GrpcInit, type GrpcSettings } from './services.js';

export { GRPC_DEFAULTS, startGrpcServices, type GrpcInit, type GrpcSettings } from './services.js';

/** Where a worker finds the gRPC services (services.ts from the sources, services.js when built). */
export const GRPC_HOST: HostModule<GrpcInit> = {
  url: new URL('./services.js', import.meta.url),
  exportName: 'startGrpcServices',
  factory: startGrpcServices,
};

/**
 * What `placeOrder` measures.
 * - `unary`: one PlaceOrder call; it answers once the order is terminal (the "grpc" row).
 * - `stream`: open StreamOrderUpdates for the order, send PlaceOrder, and resolve when the
 *   stream delivers the terminal update — the latency a client that watches its order sees.
 */
export type GrpcLatency = 'unary' | 'stream';

export interface GrpcPatternOptions extends Partial<GrpcSettings> {
  readonly latency?: GrpcLatency;
}

const TRADE_OFFS = {
  pros: [
    'Typed contract (.proto) with generated or checked messages; breaking changes are visible',
    'Protobuf over HTTP/2: compact messages, many calls multiplexed on one connection',
    'Deadlines, status codes and server streaming are part of the protocol',
  ],
  cons: [
    'Still synchronous: the caller waits for the whole chain, as with REST',
    'Binary on the wire: curl and browser tools need grpcurl or a gateway',
    'HTTP/2 framing and flow control cost CPU on small messages',
  ],
  whenToUse: 'Internal service-to-service calls with a strict contract, low latency budgets, or streams of updates.',
};

/**
 * Where the gRPC services run unless the run says (`--placement`): the load generator's
 * event loop. Measured with `node dist/src/cli.js run --patterns rest,grpc --scenarios
 * baseline --placement …` (5 s, 10 concurrent orders, 4 alternating rounds, medians,
 * 2-core machine): 864 orders/s (p50 9.3 ms, p99 32 ms) in the same event loop vs 788
 * (p50 10.1 ms, p99 44 ms) in worker threads; at `--rate 500`, 506 orders/s achieved with
 * p50 3.0 ms vs 516–541 with p50 7–21 ms (grpc-js spends more CPU per order across threads:
 * 1.9 vs 2.8–3.1 ms). Warm and long-running (`node dist/bench/transport.js
 * --compare-placement`) worker threads were ahead, 931 vs 782: a short run is what a user runs.
 */
export const GRPC_DEFAULT_PLACEMENT: Placement = 'same-thread';

/** The client's side of the client → orders hop. */
export interface GrpcClient {
  /** Resolves with the terminal outcome; what it waits for is `latency` (see GrpcLatency). */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** Send an empty PlaceOrder, which orders refuses (INVALID_ARGUMENT) before any effect: a warm-up call. */
  refused(): Promise<void>;
  close(): void;
}

export function createGrpcClient(address: Address, settings: GrpcSettings = GRPC_DEFAULTS, latency: GrpcLatency = 'unary'): GrpcClient {
  const proto = loadOrderProto();
  const client = createClient(address, channelOptions(settings));
  const fail = (order: OrderRequest, err: unknown) =>
    new OrderFailedError(order.orderId, statusName(err), (err as { details?: string }).details ?? String(err));
  const request = (order: OrderRequest): PlaceOrderRequest => ({ ...order, items: [...order.items] });

  const placeUnary = async (order: OrderRequest): Promise<OrderOutcome> => {
    try {
      return toOutcome(await unary(client, proto.OrderService.PlaceOrder, request(order), settings.clientTimeoutMs));
    } catch (err) {
      throw fail(order, err);
    }
  };

  const placeStreaming = (order: OrderRequest): Promise<OrderOutcome> =>
    new Promise((resolve, reject) => {
      const updates = serverStream(client, proto.OrderService.StreamOrderUpdates, { orderId: order.orderId }, settings.clientTimeoutMs);
      let settled = false;
      let placeError: unknown;
      updates.on('data', (update: OrderUpdate) => {
        if (settled || (update.status !== 'CONFIRMED' && update.status !== 'CANCELLED')) return;
        settled = true;
        resolve(toOutcome(update));
      });
      updates.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(fail(order, placeError ?? err));
      });
      updates.on('end', () => {
        if (settled) return;
        settled = true;
        reject(fail(order, placeError ?? new Error('the update stream ended before the order was terminal')));
      });
      // The stream was opened first, on the same connection, so it sees every update.
      unary(client, proto.OrderService.PlaceOrder, request(order), settings.clientTimeoutMs).catch((err: unknown) => {
        placeError = err;
        updates.cancel();
      });
    });

  return {
    placeOrder: latency === 'stream' ? placeStreaming : placeUnary,
    refused: () => refused(unary(client, proto.OrderService.PlaceOrder, { orderId: '', customerId: '', items: [], amountCents: 0 }, settings.clientTimeoutMs)),
    close: () => client.close(),
  };
}

/** The gRPC pattern with other deadlines or limits, or measuring the stream. */
export function createGrpcPattern(options: GrpcPatternOptions = {}): Pattern {
  const { latency = 'unary', ...overrides } = options;
  const settings: GrpcSettings = { ...GRPC_DEFAULTS, ...overrides };
  const stream = latency === 'stream';
  return {
    id: stream ? 'grpc-stream' : 'grpc',
    resilient: true,
    title: stream ? 'gRPC (until the stream shows the terminal state)' : 'gRPC (HTTP/2 + protobuf)',
    summary: stream
      ? 'gRPC, timed from opening StreamOrderUpdates until it delivers the terminal state.'
      : 'Synchronous request/response: unary PlaceOrder, orders calls inventory and payments over HTTP/2 with protobuf; StreamOrderUpdates streams status.',
    tradeOffs: TRADE_OFFS,
    start: (ctx) =>
      startSynchronous(ctx, {
        module: GRPC_HOST,
        init: { world: ctx.world, settings, resilience: ctx.options.resilience ?? 'default', seed: ctx.random.int(0, 2 ** 31) } satisfies GrpcInit,
        defaultPlacement: GRPC_DEFAULT_PLACEMENT,
        hop: 'grpc:orders',
        protocol: 'HTTP/2 (gRPC)',
        encoding: 'protobuf',
        connect: (address) => createGrpcClient(address, settings, latency),
      }),
  };
}

/** gRPC: unary PlaceOrder; latency is the unary call, which answers at the terminal state. */
export const grpcPattern: Pattern = createGrpcPattern();

/** gRPC measured until StreamOrderUpdates delivers the terminal state (not in the default set). */
export const grpcStreamPattern: Pattern = createGrpcPattern({ latency: 'stream' });
