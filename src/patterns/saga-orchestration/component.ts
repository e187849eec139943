import { status, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { LatencySummary } from '../../metrics/histogram.js';
import type { Address } from '../../net/address.js';
import type { ComponentFactory } from '../../placement/component.js';
import { seededRandom } from '../../random.js';
import { OrdersService } from '../../workflow/orders.js';
import type { OrderRequest } from '../../workflow/types.js';
import type { WorkflowPorts } from '../../workflow/workflow.js';
import { openStore, type StoreSpec } from '../event-sourcing/components.js';
import { withSpan } from '../../tracing/index.js';
import { grpcError, statusName, traceContextOf } from '../grpc/calls.js';
import type { OrderUpdate, PlaceOrderRequest } from '../grpc/messages.js';
import { loadOrderProto } from '../grpc/proto.js';
import { participantClients, serve, serveCustomerOrders, streamOrderUpdates, toOrder, toUpdate, type GrpcSettings } from '../grpc/services.js';
import type { CrashableApi, ServiceApi } from '../service-api.js';
import type { SagaParticipants } from './definition.js';
import { Orchestrator, ORCHESTRATOR_POLICIES } from './orchestrator.js';

export interface OrchestratorInit {
  readonly store: StoreSpec;
  /** The participants' addresses, routed (`saga:<service>`). */
  readonly participants: { readonly inventory: Address; readonly payments: Address; readonly notifications: Address };
  readonly settings: GrpcSettings;
  readonly seed: number;
  /** `--resilience`: the orchestrator's own retry policy (`default`), or one attempt each (`none`). */
  readonly resilience: 'none' | 'default';
  /** Where its gRPC server listens: 127.0.0.1, any free port, unless given (`pattern-bench serve`). */
  readonly listen?: Address;
}

export interface OrchestratorApi extends ServiceApi, CrashableApi {
  /** No saga running and every order accepted here terminal. */
  idle(): boolean;
  compensation(): LatencySummary;
  /** Steps run, sagas resumed after restarts, and executions running now. */
  sagaStats(): { readonly stepsRun: number; readonly resumed: number; readonly running: number };
}

/**
 * The orders service with the saga orchestrator: an explicit state machine whose every
 * decision is written to the saga log (the event store) before it is acted on, calling
 * the participants over gRPC. Clients reach it over gRPC: `SubmitOrder` streams PENDING
 * once the saga's start is logged (accepted), then the terminal state; `GetCustomerOrders`
 * reads its orders service.
 */
export const startOrchestrator: ComponentFactory<OrchestratorInit, OrchestratorApi> = async (init, env) => {
  const log = await openStore(init.store);
  const errors: Record<string, number> = {};
  const orders = new OrdersService();
  const placed = new Set<string>();
  const clients = await participantClients(init.participants, init.settings).catch(async (err: unknown) => {
    await log.close();
    throw err;
  });
  const orchestrator = new Orchestrator(log, participantsOf(clients.ports, orders, errors), seededRandom(init.seed), ORCHESTRATOR_POLICIES[init.resilience]);
  let restart: NodeJS.Timeout | undefined;
  let stopped = false;
  const proto = loadOrderProto();
  const served = await serve(init.settings, env.meter, (server) =>
    server.addService(proto.OrderService, {
      SubmitOrder: (call: ServerWritableStream<PlaceOrderRequest, OrderUpdate>) => {
        const run = () => submit(call, orders, orchestrator, placed);
        const parent = traceContextOf(call.metadata);
        if (!parent) return void run();
        const bytes = proto.OrderService.SubmitOrder.requestSerialize(call.request).length; // traced calls only
        void withSpan('orchestrator: SubmitOrder', { service: 'orchestrator', operation: 'SubmitOrder', bytes }, run, parent);
      },
      StreamOrderUpdates: streamOrderUpdates(orders),
      GetCustomerOrders: serveCustomerOrders(orders),
    } satisfies UntypedServiceImplementation),
    init.listen,
  ).catch(async (err: unknown) => {
    clients.close();
    await log.close();
    throw err;
  });
  return {
    addresses: { grpc: served.address },
    api: {
      snapshot: () => ({ orders: orders.snapshot() }),
      hopErrors: () => ({ ...errors }),
      idle: () => orchestrator.idle && [...placed].every((id) => orders.outcome(id) !== undefined),
      compensation: () => orchestrator.compensationLatency(),
      sagaStats: () => ({ stepsRun: orchestrator.stepsRun, resumed: orchestrator.resumed, running: orchestrator.runningCount }),
      // Kill the orchestrator mid-saga; it restarts shortly and resumes every unfinished saga from its log.
      crash: async (downMs: number) => {
        orchestrator.crash();
        restart = setTimeout(() => {
          restart = undefined;
          if (!stopped) void orchestrator.recover().catch((err: unknown) => (errors[`orchestrator:recover-${statusName(err)}`] = (errors[`orchestrator:recover-${statusName(err)}`] ?? 0) + 1));
        }, downMs);
      },
    },
    stop: async () => {
      stopped = true;
      if (restart) clearTimeout(restart);
      await orchestrator.stop();
      await served.close();
      clients.close();
      await log.close();
    },
  };
};

/** One SubmitOrder call: accept (log the saga's start), tell the client, then tell it the outcome. */
async function submit(
  call: ServerWritableStream<PlaceOrderRequest, OrderUpdate>,
  orders: OrdersService,
  orchestrator: Orchestrator,
  placed: Set<string>,
): Promise<void> {
  const write = (update: OrderUpdate) => call.write(update);
  let order: OrderRequest;
  try {
    order = toOrder(call.request);
  } catch (err) {
    call.emit('error', grpcError(status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err)));
    return;
  }
  try {
    if (orders.create(order)) {
      placed.add(order.orderId);
      await orchestrator.start(order); // the saga is accepted once its start is logged
    }
    write({ orderId: order.orderId, status: 'PENDING', reason: 'CANCEL_REASON_UNSPECIFIED' });
    write(toUpdate(await orders.whenTerminal(order.orderId)));
    call.end();
  } catch (err) {
    call.emit('error', grpcError(status.UNAVAILABLE, `the saga could not start: ${err instanceof Error ? err.message : String(err)}`));
  }
}

/** The saga's participants: the gRPC ports (errors counted by hop and status), and the local orders service. */
function participantsOf(timed: WorkflowPorts, orders: OrdersService, errors: Record<string, number>): SagaParticipants {
  const count = (hop: string) => (err: unknown) => {
    const key = `${hop}:${statusName(err)}`;
    errors[key] = (errors[key] ?? 0) + 1;
    throw err;
  };
  return {
    charge: (o) => timed.charge(o).catch(count('charge')),
    refund: (id) => timed.refund(id).catch(count('refund')),
    reserve: (o) => timed.reserve(o).catch(count('reserve')),
    release: (id) => timed.release(id).catch(count('release')),
    notify: (id, s) => timed.notify(id, s).catch(count('notify')),
    confirm: async (id) => {
      orders.advance(id, 'RESERVED');
      orders.finish(id, 'CONFIRMED');
    },
    cancel: async (id, reason) => {
      orders.finish(id, 'CANCELLED', reason);
    },
  };
}
