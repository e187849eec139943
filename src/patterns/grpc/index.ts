import type { Client } from '@grpc/grpc-js';
import { OrderFailedError } from '../../errors.js';
import type { ComponentModule } from '../../placement/component.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import { startSynchronous } from '../synchronous.js';
import type { Address, Pattern } from '../types.js';
import { createClient, serverStream, statusName, unary } from './calls.js';
import type { OrderUpdate, PlaceOrderRequest } from './messages.js';
import { loadOrderProto } from './proto.js';
import { channelOptions, GRPC_DEFAULTS, refused, startGrpcService, toOutcome, toRecord, type GrpcServiceApi, type GrpcServiceInit, type GrpcSettings } from './services.js';

export { GRPC_DEFAULTS, startGrpcService, type GrpcServiceApi, type GrpcServiceInit, type GrpcSettings } from './services.js';

/** Where a worker finds the gRPC services (services.ts from the sources, services.js when built). */
export const GRPC_SERVICE: ComponentModule<GrpcServiceInit, GrpcServiceApi> = {
  url: new URL('./services.js', import.meta.url),
  exportName: 'startGrpcService',
  factory: startGrpcService,
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

/** grpc-stream's: the same system, seen through the stream a watching client keeps open. */
const STREAM_TRADE_OFFS = {
  pros: [
    'The client sees every state change as it happens (PENDING → … → CONFIRMED or CANCELLED), not only the answer',
    'One stream per order on the same HTTP/2 connection as the calls: no polling, no second protocol',
  ],
  cons: [
    'One more call per order (the stream) and a message per state: more messages and bytes than unary grpc',
    'A stream is state on both ends: held open until the terminal update, cancelled when PlaceOrder fails',
  ],
  whenToUse: 'A client (a UI, a gateway) that must show an order\'s progress, not only its outcome, over gRPC.',
};

/** Why grpc-stream is not in the default set (its card and the report say so). */
const STREAM_OPT_IN =
  'Not in the default set: it runs the grpc system and workflow unchanged, so its row differs from grpc\'s only by the stream ' +
  '(one more call and an update per state), and an eighth default pattern would push `run --quick` past its 20 s budget. ' +
  'Name it in --patterns (e.g. `--patterns grpc,grpc-stream`) to set the stream against the unary call.';

/** grpc's and grpc-stream's read path (OrderReader.readPath). */
export const GRPC_READ_PATH = "unary GetCustomerOrders RPC (repeated Order), with a deadline, on the client's channel to orders (PlaceOrder's)";

/** GetCustomerOrders over `client`: the customer's orders, oldest first, with the workflow's status and reason names. */
export async function getCustomerOrders(client: Client, customerId: string, timeoutMs: number): Promise<OrderRecord[]> {
  const reply = await unary(client, loadOrderProto().OrderService.GetCustomerOrders, { customerId }, timeoutMs);
  return reply.orders.map(toRecord);
}

/** The client's side of the client → orders hop. */
export interface GrpcClient {
  /** Resolves with the terminal outcome; what it waits for is `latency` (see GrpcLatency). */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** Send an empty PlaceOrder, which orders refuses (INVALID_ARGUMENT) before any effect: a warm-up call. */
  refused(): Promise<void>;
  /** GetCustomerOrders (unary, with the client's deadline). */
  customerOrders(customerId: string): Promise<OrderRecord[]>;
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
    customerOrders: (customerId) => getCustomerOrders(client, customerId, settings.clientTimeoutMs),
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
    readPath: GRPC_READ_PATH,
    title: stream ? 'gRPC StreamOrderUpdates (until the stream shows the terminal state)' : 'gRPC (HTTP/2 + protobuf)',
    summary: stream
      ? "The article's server-streaming StreamOrderUpdates on the grpc system: the client opens the stream, sends PlaceOrder; latency until the stream shows the terminal state."
      : 'Synchronous request/response: unary PlaceOrder, orders calls inventory and payments over HTTP/2 with protobuf; StreamOrderUpdates streams status.',
    tradeOffs: stream ? STREAM_TRADE_OFFS : TRADE_OFFS,
    ...(stream ? { optIn: STREAM_OPT_IN } : {}),
    start: (ctx) => {
      const resilience = ctx.options.resilience ?? 'default';
      const seed = ctx.random.int(0, 2 ** 31);
      return startSynchronous<GrpcServiceInit>(ctx, {
        module: GRPC_SERVICE,
        prefix: 'grpc',
        listen: 'grpc',
        downstream: (service) => ({ service, world: ctx.world, settings }),
        orders: (downstream) => ({ service: 'orders', settings, downstream, resilience, seed }),
        protocol: 'HTTP/2 (gRPC)',
        encoding: 'protobuf',
        readPath: GRPC_READ_PATH,
        connect: (address) => createGrpcClient(address, settings, latency),
      });
    },
  };
}

/** gRPC: unary PlaceOrder; latency is the unary call, which answers at the terminal state. */
export const grpcPattern: Pattern = createGrpcPattern();

/** gRPC measured until StreamOrderUpdates delivers the terminal state (not in the default set). */
export const grpcStreamPattern: Pattern = createGrpcPattern({ latency: 'stream' });
