import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import {
  Server,
  ServerCredentials,
  status,
  type ServerInterceptor,
  type ChannelOptions,
  type Client,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Address } from '../../net/address.js';
import type { ComponentEnv, ComponentFactory, RunningComponent } from '../../placement/component.js';
import { WARM_UP_CALLS, warmUpOnce } from '../../placement/warmup.js';
import { countGrpcMessages } from '../../wire/grpc.js';
import type { WireMeter } from '../../wire/meter.js';
import { InventoryService } from '../../workflow/inventory.js';
import { NotificationsService } from '../../workflow/notifications.js';
import { OrdersService, type OrderRecord } from '../../workflow/orders.js';
import { PaymentsService } from '../../workflow/payments.js';
import type { World } from '../../workflow/services.js';
import type { CrashableApi, ErrorsApi, ServiceApi } from '../service-api.js';
import { ErrorRate } from '../transient.js';
import { isTerminal, ORDER_STATUSES, type CancelReason, type OrderItem, type OrderOutcome, type OrderRequest } from '../../workflow/types.js';
import { runOrderWorkflow, type WorkflowPorts } from '../../workflow/workflow.js';
import { context } from '@opentelemetry/api';
import { endSpan, openSpan } from '../../tracing/index.js';
import { createClient, grpcError, isStatus, statusName, traceContextOf, tracedMethod, unary } from './calls.js';
import type { CancelReasonName, Empty, GetCustomerOrdersRequest, GetCustomerOrdersResponse, OrderItemMsg, OrderMsg, OrderUpdate, PlaceOrderRequest } from './messages.js';
import { loadOrderProto, type OrderProto } from './proto.js';
import { RESILIENCE_POLICIES, withResilience, type ResiliencePolicy } from '../../resilience/policies.js';
import { seededRandom } from '../../random.js';

/** Deadlines and limits of the gRPC pattern. ms and bytes. */
export interface GrpcSettings {
  /** Deadline of one orders → downstream call. Default 2000. */
  readonly hopTimeoutMs: number;
  /** Deadline of the client → orders call (the whole workflow, or the whole stream). Default 10 000. */
  readonly clientTimeoutMs: number;
  /** `grpc.max_receive_message_length` (and send) of every server and channel. Default 64 KiB. */
  readonly maxMessageBytes: number;
}

export const GRPC_DEFAULTS: GrpcSettings = { hopTimeoutMs: 2000, clientTimeoutMs: 10_000, maxMessageBytes: 64 * 1024 };

/** Where a server listens. Default 127.0.0.1 on an ephemeral port (every run); `pattern-bench serve` gives its --host and --port. */
export interface ListenAt {
  readonly host: string;
  readonly port: number;
}

const LOOPBACK_ANY_PORT: ListenAt = { host: '127.0.0.1', port: 0 };

/** What starts one gRPC service: a participant from the world, or orders with its downstream addresses (already routed). */
export type GrpcServiceInit =
  | { readonly service: 'inventory' | 'payments' | 'notifications'; readonly world: World; readonly settings: GrpcSettings; readonly listen?: ListenAt }
  | {
      readonly service: 'orders';
      readonly listen?: ListenAt;
      readonly settings: GrpcSettings;
      readonly downstream: { readonly inventory: Address; readonly payments: Address; readonly notifications: Address };
      /** Resilience policy of the orders service's hops (see src/resilience). */
      readonly resilience: ResiliencePolicy['name'];
      /** Seed of the policy's jitter. */
      readonly seed: number;
    };

export type GrpcServiceApi = ServiceApi & CrashableApi & ErrorsApi;

/** Resolves when `call` failed with INVALID_ARGUMENT (a warm-up call, refused as it should be). */
export async function refused(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (isStatus(err, status.INVALID_ARGUMENT)) return;
    throw err;
  }
  throw new Error('a warm-up call was not refused');
}

/** Options of every server and channel of the pattern. */
export function channelOptions(settings: GrpcSettings): ChannelOptions {
  return {
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': settings.maxMessageBytes,
    // Channelz bookkeeping costs per call and nothing here reads it. grpc-js's transparent
    // retries stay at their default.
    'grpc.enable_channelz': 0,
  };
}

const REASONS: Readonly<Record<CancelReason, CancelReasonName>> = {
  out_of_stock: 'OUT_OF_STOCK',
  payment_declined: 'PAYMENT_DECLINED',
  downstream_error: 'DOWNSTREAM_ERROR',
};

/** An order's state as the wire carries it. */
export function toUpdate(record: OrderOutcome | OrderRecord): OrderUpdate {
  return { orderId: record.orderId, status: record.status, reason: record.reason ? REASONS[record.reason] : 'CANCEL_REASON_UNSPECIFIED' };
}

/** The outcome a terminal update stands for. */
export function toOutcome(update: OrderUpdate): OrderOutcome {
  if (update.status !== 'CONFIRMED' && update.status !== 'CANCELLED') throw new Error(`not a terminal status: ${update.status}`);
  const reason = (Object.keys(REASONS) as CancelReason[]).find((r) => REASONS[r] === update.reason);
  return reason ? { orderId: update.orderId, status: update.status, reason } : { orderId: update.orderId, status: update.status };
}

/** An order as the read side's wire carries it back: the workflow's status and reason names. */
export function toRecord(msg: OrderMsg): OrderRecord {
  if (msg.status === 'ORDER_STATUS_UNSPECIFIED') throw new Error(`order ${msg.orderId} has no status on the wire`);
  const reason = (Object.keys(REASONS) as CancelReason[]).find((r) => REASONS[r] === msg.reason);
  return reason ? { orderId: msg.orderId, status: msg.status, reason } : { orderId: msg.orderId, status: msg.status };
}

class InvalidArgument extends Error {}

function requireText(value: string, field: string): string {
  if (value.length === 0 || value.length > 200) throw new InvalidArgument(`${field} must be a non-empty string of at most 200 characters`);
  return value;
}

function toItems(items: readonly OrderItemMsg[]): OrderItem[] {
  if (items.length === 0 || items.length > 100) throw new InvalidArgument('items must hold 1 to 100 items');
  return items.map((item, i) => {
    if (item.sku.length === 0) throw new InvalidArgument(`items[${i}].sku must not be empty`);
    if (item.qty < 1) throw new InvalidArgument(`items[${i}].qty must be ≥ 1`);
    return { sku: item.sku, qty: item.qty };
  });
}

export function toOrder(req: PlaceOrderRequest): OrderRequest {
  if (!Number.isSafeInteger(req.amountCents)) throw new InvalidArgument('amount_cents is too large');
  return { orderId: requireText(req.orderId, 'order_id'), customerId: requireText(req.customerId, 'customer_id'), items: toItems(req.items), amountCents: req.amountCents };
}

/** What serializes a method's request: its definition (`proto.PaymentService.Charge`), for a traced call's bytes. */
export interface Serializer<Req> {
  requestSerialize(req: Req): Buffer;
}

/**
 * Answer a unary call from `body`; a thrown InvalidArgument becomes INVALID_ARGUMENT. Its
 * messages are counted by the server it is added to (`serve`: at the wire), not here.
 */
export function handle<Req, Res>(body: (req: Req) => Res | Promise<Res>, errors?: ErrorRate, method?: Serializer<Req>) {
  const serveCall = answer(body, errors);
  return (call: ServerUnaryCall<Req, Res>, reply: sendUnaryData<Res>) => {
    // Traced only when the caller sent a traceparent (tracing off: one metadata lookup).
    const parent = traceContextOf(call.metadata);
    if (!parent) return serveCall(call, reply);
    const traced = tracedMethod(call.getPath());
    // The request message's bytes, serialized again: paid only by traced calls.
    const attrs = method ? { ...traced, bytes: method.requestSerialize(call.request).length } : traced;
    const opened = openSpan(`${traced.service}: ${traced.operation}`, attrs, parent);
    if (!opened) return serveCall(call, reply);
    context.with(opened.ctx, () =>
      serveCall(call, (err, value) => {
        endSpan(opened.span, err ?? undefined);
        reply(err, value);
      }),
    );
  };
}

function answer<Req, Res>(body: (req: Req) => Res | Promise<Res>, errors?: ErrorRate) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    // The caller gave up (deadline passed) while the call queued: shed it, cause no effect.
    if (call.cancelled) return callback(grpcError(status.CANCELLED, 'the call was cancelled before it was handled'));
    // The flaky scenario: "try again" before anything is done.
    if (errors?.fail()) return callback(grpcError(status.UNAVAILABLE, 'temporarily unavailable (injected)'));
    const fail = (err: unknown) =>
      callback(
        err instanceof InvalidArgument
          ? grpcError(status.INVALID_ARGUMENT, err.message)
          : typeof (err as { code?: unknown }).code === 'number'
            ? (err as Partial<ServiceError>)
            : grpcError(status.INTERNAL, err instanceof Error ? err.message : String(err)),
      );
    try {
      const result = body(call.request);
      if (result instanceof Promise) result.then((value) => callback(null, value), fail);
      else callback(null, result);
    } catch (err) {
      fail(err);
    }
  };
}

export interface Served {
  readonly address: Address;
  /** Die abruptly — the server shuts down, every connection is dropped — and come back on the same port after `downMs`. */
  crash(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * One grpc-js server on 127.0.0.1:0 (or `at`). The TCP listener is ours and hands each connection
 * to grpc-js (`createConnectionInjector`), so the wire meter sees every server socket; the
 * server's interceptor counts every gRPC message its calls read off or write to those sockets
 * (`countGrpcMessages`), whatever the method. A crash shuts the grpc-js server down for good;
 * the restart builds a new one.
 */
export async function serve(settings: GrpcSettings, meter: WireMeter, add: (server: Server) => void, at: ListenAt = LOOPBACK_ANY_PORT): Promise<Served> {
  const counting = countGrpcMessages(meter);
  let incarnation = incarnate(settings, add, counting);
  const sockets = new Set<Socket>();
  const listener = createNetServer({ noDelay: true }, (socket) => {
    meter.attach(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    incarnation.injector.injectConnection(socket);
  });
  await listenOn(listener, at.host, at.port);
  const { port } = listener.address() as AddressInfo;
  let restart: NodeJS.Timeout | undefined;
  const shutDown = async () => {
    const closed = listener.listening ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
    incarnation.injector.destroy();
    incarnation.server.forceShutdown();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    address: { host: at.host, port },
    crash: async (downMs) => {
      await shutDown();
      restart = setTimeout(() => {
        restart = undefined;
        incarnation = incarnate(settings, add, counting);
        listenOn(listener, at.host, port).catch(() => undefined); // taken meanwhile: the service stays down, and the run shows it
      }, downMs);
    },
    close: async () => {
      if (restart) clearTimeout(restart);
      restart = undefined;
      await shutDown();
    },
  };
}

function incarnate(settings: GrpcSettings, add: (server: Server) => void, counting: ServerInterceptor) {
  const server = new Server({ ...channelOptions(settings), interceptors: [counting] });
  add(server);
  return { server, injector: server.createConnectionInjector(ServerCredentials.createInsecure()) };
}

function listenOn(listener: ReturnType<typeof createNetServer>, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
}

/**
 * One gRPC service as a component: inventory, payments or notifications (the participants
 * of every gRPC workflow: the synchronous pattern and the orchestrated saga) with their own
 * state from the world, or orders, whose OrderService runs the shared workflow with ports
 * that call the others over gRPC (a deadline on every call) at the addresses it is given.
 */
export const startGrpcService: ComponentFactory<GrpcServiceInit, GrpcServiceApi> = async (init, env) => {
  const errors = new ErrorRate(env.random.fork());
  if (init.service === 'orders') return startOrders(init, env, errors);
  const { served, snapshot } = await startParticipant(init, env.meter, errors);
  return serviceComponent(served, errors, snapshot, () => ({}));
};

function serviceComponent(served: Served, errors: ErrorRate, snapshot: GrpcServiceApi['snapshot'], hopErrors: GrpcServiceApi['hopErrors'], stopMore?: () => void): RunningComponent<GrpcServiceApi> {
  return {
    addresses: { grpc: served.address },
    api: { snapshot, hopErrors, crash: (downMs: number) => served.crash(downMs), errors: (share: number) => errors.set(share) },
    stop: async () => {
      stopMore?.();
      await served.close();
    },
  };
}

/** A participant's server: inventory, payments or notifications over gRPC. */
export async function startParticipant(init: Extract<GrpcServiceInit, { service: 'inventory' | 'payments' | 'notifications' }>, meter: WireMeter, errors?: ErrorRate) {
  const proto = loadOrderProto();
  const { settings } = init;
  const handleWith = <Req, Res>(method: Serializer<Req>, body: (req: Req) => Res | Promise<Res>) => handle(body, errors, method);
  if (init.service === 'inventory') {
    const inventory = new InventoryService(init.world.stock);
    const served = await serve(settings, meter, (server) =>
      server.addService(proto.InventoryService, {
        Reserve: handleWith(proto.InventoryService.Reserve, (req: { orderId: string; items: OrderItemMsg[] }): Empty => {
          const result = inventory.reserve(requireText(req.orderId, 'order_id'), toItems(req.items));
          if (!result.ok) throw grpcError(status.FAILED_PRECONDITION, result.reason);
          return {};
        }),
        Release: handleWith(proto.InventoryService.Release, (req: { orderId: string }): Empty => {
          inventory.release(requireText(req.orderId, 'order_id'));
          return {};
        }),
      } satisfies UntypedServiceImplementation),
      init.listen,
    );
    return { served, snapshot: () => ({ inventory: inventory.snapshot() }) };
  }
  if (init.service === 'payments') {
    const payments = new PaymentsService(init.world.balances);
    const served = await serve(settings, meter, (server) =>
      server.addService(proto.PaymentService, {
        Charge: handleWith(proto.PaymentService.Charge, (req: { orderId: string; customerId: string; amountCents: number }): Empty => {
          const result = payments.charge(requireText(req.orderId, 'order_id'), requireText(req.customerId, 'customer_id'), req.amountCents);
          if (!result.ok) throw grpcError(status.FAILED_PRECONDITION, result.reason);
          return {};
        }),
        Refund: handleWith(proto.PaymentService.Refund, (req: { orderId: string }): Empty => {
          payments.refund(requireText(req.orderId, 'order_id'));
          return {};
        }),
      } satisfies UntypedServiceImplementation),
      init.listen,
    );
    return { served, snapshot: () => ({ payments: payments.snapshot() }) };
  }
  const notifications = new NotificationsService();
  const served = await serve(settings, meter, (server) =>
    server.addService(proto.NotificationService, {
      Notify: handleWith(proto.NotificationService.Notify, (req: { orderId: string; status: string }): Empty => {
        if (req.status !== 'CONFIRMED' && req.status !== 'CANCELLED') throw new InvalidArgument('status must be CONFIRMED or CANCELLED');
        notifications.notify(requireText(req.orderId, 'order_id'), req.status);
        return {};
      }),
    } satisfies UntypedServiceImplementation),
    init.listen,
  );
  return { served, snapshot: () => ({ notifications: notifications.snapshot() }) };
}

/** Clients to the three participants at `downstream`, warmed with calls they refuse before any effect. */
export async function participantClients(downstream: { readonly inventory: Address; readonly payments: Address; readonly notifications: Address }, settings: GrpcSettings) {
  const proto = loadOrderProto();
  const clients = {
    inventory: createClient(downstream.inventory, channelOptions(settings)),
    payments: createClient(downstream.payments, channelOptions(settings)),
    notifications: createClient(downstream.notifications, channelOptions(settings)),
  };
  const close = () => Object.values(clients).forEach((c) => c.close());
  const deadline = settings.hopTimeoutMs;
  try {
    await Promise.all(
      (
        [
          ['Reserve', () => unary(clients.inventory, proto.InventoryService.Reserve, { orderId: '', items: [] }, deadline)],
          ['Charge', () => unary(clients.payments, proto.PaymentService.Charge, { orderId: '', customerId: '', amountCents: 0 }, deadline)],
          ['Notify', () => unary(clients.notifications, proto.NotificationService.Notify, { orderId: '', status: 'ORDER_STATUS_UNSPECIFIED' as const }, deadline)],
        ] as const
      ).map(([name, call]) => warmUpOnce(`grpc-participants ${name}`, WARM_UP_CALLS, 10, () => refused(call()))),
    );
  } catch (err) {
    close();
    throw err;
  }
  return { clients, close, ports: grpcPorts(proto, clients, deadline) };
}

async function startOrders(init: Extract<GrpcServiceInit, { service: 'orders' }>, { meter }: ComponentEnv, errors: ErrorRate): Promise<RunningComponent<GrpcServiceApi>> {
  const proto = loadOrderProto();
  const orders = new OrdersService();
  const hopErrors: Record<string, number> = {};
  const count = (kind: string) => (hopErrors[kind] = (hopErrors[kind] ?? 0) + 1);
  const participants = await participantClients(init.downstream, init.settings);
  try {
    const ports = withResilience(participants.ports, RESILIENCE_POLICIES[init.resilience], seededRandom(init.seed), (hop, event) => count(`${hop}:${event}`));
    const onHopError = (hop: string, err: unknown) => count(`${hop}:${statusName(err)}`);
    const served = await serve(init.settings, meter, (server) =>
      server.addService(proto.OrderService, {
        PlaceOrder: handle(async (req: PlaceOrderRequest): Promise<OrderUpdate> => toUpdate(await runOrderWorkflow(orders, ports, toOrder(req), onHopError)), errors, proto.OrderService.PlaceOrder),
        StreamOrderUpdates: streamOrderUpdates(orders),
        GetCustomerOrders: serveCustomerOrders(orders, errors),
      } satisfies UntypedServiceImplementation),
      init.listen,
    );
    return serviceComponent(served, errors, () => ({ orders: orders.snapshot() }), () => ({ ...hopErrors }), participants.close);
  } catch (err) {
    participants.close();
    throw err;
  }
}

/**
 * GetCustomerOrders over `orders`: the read side, a unary call metered (by `serve`) and flaky
 * like the others.
 */
export function serveCustomerOrders(orders: OrdersService, errors?: ErrorRate) {
  const proto = loadOrderProto();
  return handle(
    (req: GetCustomerOrdersRequest): GetCustomerOrdersResponse => ({ orders: orders.forCustomer(requireText(req.customerId, 'customer_id')).map(toUpdate) }),
    errors,
    proto.OrderService.GetCustomerOrders,
  );
}

/**
 * StreamOrderUpdates over `orders`: each state once, the current one first, ending after the
 * terminal one; its request and each update are counted by `serve` as they cross.
 */
export function streamOrderUpdates(orders: OrdersService) {
  return (call: ServerWritableStream<{ orderId: string }, OrderUpdate>) => {
    const { orderId } = call.request;
    if (orderId.length === 0) {
      call.emit('error', grpcError(status.INVALID_ARGUMENT, 'order_id must not be empty'));
      return;
    }
    // A traced stream is one span, open until the terminal update is written or the client cancels.
    const parent = traceContextOf(call.metadata);
    const opened = parent ? openSpan('orders: StreamOrderUpdates', tracedMethod(call.getPath()), parent) : undefined;
    // Status only moves forward: send each state once, the current one first, and end after the terminal one.
    let sent = -1;
    const send = (record: OrderRecord) => {
      const rank = ORDER_STATUSES.indexOf(record.status);
      if (rank <= sent) return;
      sent = rank;
      call.write(toUpdate(record));
      if (isTerminal(record.status)) {
        stop();
        if (opened) endSpan(opened.span);
        call.end();
      }
    };
    const stop = orders.watch(orderId, send);
    call.on('cancelled', () => {
      stop();
      if (opened && opened.span.isRecording()) endSpan(opened.span, new Error('the client cancelled the stream'));
    });
    const current = orders.get(orderId);
    if (current) send(current);
  };
}

/** The workflow's hops as gRPC calls with a deadline: business refusals become results, the rest throws. */
export function grpcPorts(
  proto: OrderProto,
  clients: { readonly inventory: Client; readonly payments: Client; readonly notifications: Client },
  deadline: number,
): WorkflowPorts {
  const { inventory, payments, notifications } = clients;
  return {
    reserve: async (order) => {
      try {
        await unary(inventory, proto.InventoryService.Reserve, { orderId: order.orderId, items: [...order.items] }, deadline);
        return { ok: true };
      } catch (err) {
        if (isStatus(err, status.FAILED_PRECONDITION)) return { ok: false, reason: 'out_of_stock' };
        throw err;
      }
    },
    release: async (orderId) => void (await unary(inventory, proto.InventoryService.Release, { orderId }, deadline)),
    charge: async ({ orderId, customerId, amountCents }) => {
      try {
        await unary(payments, proto.PaymentService.Charge, { orderId, customerId, amountCents }, deadline);
        return { ok: true };
      } catch (err) {
        if (isStatus(err, status.FAILED_PRECONDITION)) return { ok: false, reason: 'payment_declined' };
        throw err;
      }
    },
    refund: async (orderId) => void (await unary(payments, proto.PaymentService.Refund, { orderId }, deadline)),
    notify: async (orderId, s) => void (await unary(notifications, proto.NotificationService.Notify, { orderId, status: s }, deadline)),
  };
}
