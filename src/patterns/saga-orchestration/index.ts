import { performance } from 'node:perf_hooks';
import type { Client } from '@grpc/grpc-js';
import { OrderFailedError } from '../../errors.js';
import type { LatencySummary } from '../../metrics/histogram.js';
import type { Address } from '../../net/address.js';
import { addressOf, type ComponentHandle, type ComponentModule } from '../../placement/component.js';
import { PlacedSystem, type ThreadUse } from '../../placement/system.js';
import { DEFAULT_PLACEMENT } from '../../placement/types.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { SystemSnapshot } from '../../workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import type { WireStats } from '../../wire/meter.js';
import { createClient, serverStream, statusName } from '../grpc/calls.js';
import { getCustomerOrders, GRPC_SERVICE } from '../grpc/index.js';
import type { OrderUpdate } from '../grpc/messages.js';
import { loadOrderProto } from '../grpc/proto.js';
import { channelOptions, GRPC_DEFAULTS, toOutcome, type GrpcServiceApi } from '../grpc/services.js';
import { placeStore, type PlacedStore } from '../placed-store.js';
import { mergeCounts, mergeSnapshots } from '../service-api.js';
import { minus, wireOf } from '../synchronous.js';
import type {
  CompensationReporter,
  Crashable,
  Drainable,
  ErrorInjectable,
  HopErrorCounter,
  OrderReader,
  Pattern,
  PatternContext,
  RunningPattern,
  SagaStats,
  ThreadReporter,
  TransportInfo,
  WireMetered,
} from '../types.js';
import { startOrchestrator, type OrchestratorApi, type OrchestratorInit } from './component.js';
import { describeOrchestratorPolicy, ORCHESTRATOR_POLICIES } from './orchestrator.js';

/** ms an orchestrator stays dead after a crash before it restarts and reads its log. */
const RESTART_DELAY_MS = 50;
/** ms a crashed participant stays down before it listens again. */
const PARTICIPANT_RESTART_MS = 50;
const PARTICIPANTS = ['inventory', 'payments', 'notifications'] as const;

/** The read path (OrderReader.readPath): the orchestrator serves its own orders service's OrderService. */
const READ_PATH = "unary GetCustomerOrders RPC (repeated Order), with a deadline, on the client's channel to the orchestrator (its own orders service; SubmitOrder's)";

const ORCHESTRATOR: ComponentModule<OrchestratorInit, OrchestratorApi> = { url: new URL('./component.js', import.meta.url), exportName: 'startOrchestrator', factory: startOrchestrator };

/**
 * The orchestrated saga: an orchestrator with an explicit state machine and a saga log
 * (the event store: the embedded one, or PostgreSQL) calls inventory, payments and
 * notifications over gRPC with deadlines; the orders service is the orchestrator's own.
 * The client submits an order over gRPC and follows it to its terminal state.
 */
class OrchestratedSaga implements RunningPattern, OrderReader, WireMetered, Drainable, Crashable, ErrorInjectable, HopErrorCounter, CompensationReporter, SagaStats, ThreadReporter {
  readonly transport: TransportInfo;
  readonly readPath = READ_PATH;
  private stopped = false;
  private base: WireStats = { bytes: 0, messages: 0 };

  constructor(
    private readonly system: PlacedSystem,
    private readonly store: PlacedStore,
    private readonly orchestrator: ComponentHandle<OrchestratorApi>,
    private readonly participants: ReadonlyMap<string, ComponentHandle<GrpcServiceApi>>,
    private readonly client: Client,
  ) {
    this.transport = {
      protocol: 'HTTP/2 (gRPC)',
      encoding: 'protobuf',
      broker: null,
      placement: system.placement,
      notes: [`saga log: ${store.kind === 'memory' ? 'the embedded event store, over TCP' : 'PostgreSQL (an external process: not placed, its CPU and wire traffic not counted)'}`],
      ...(store.kind === 'postgres' ? { wireExcludes: 'PostgreSQL' } : {}),
    };
  }

  async placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    return submitOrder(this.client, order, GRPC_DEFAULTS.clientTimeoutMs);
  }

  /** GetCustomerOrders on the orchestrator, over the client's `saga:orchestrator` channel. */
  customerOrders(customerId: string): Promise<readonly OrderRecord[]> {
    return getCustomerOrders(this.client, customerId, GRPC_DEFAULTS.clientTimeoutMs);
  }

  async snapshot(): Promise<SystemSnapshot> {
    return mergeSnapshots(await Promise.all([this.orchestrator, ...this.participants.values()].map((h) => h.call('snapshot'))));
  }

  private wireNow(): Promise<WireStats> {
    return wireOf([this.orchestrator, ...this.participants.values(), this.store]);
  }

  async wireStats(): Promise<WireStats> {
    return minus(await this.wireNow(), this.base);
  }

  async measureFromNow(): Promise<void> {
    this.base = await this.wireNow();
  }

  async hopErrors(): Promise<Readonly<Record<string, number>>> {
    return mergeCounts([await this.orchestrator.call('hopErrors')]);
  }

  compensation(): Promise<LatencySummary> {
    return this.orchestrator.call('compensation');
  }

  sagaStats(): Promise<{ readonly stepsRun: number; readonly resumed: number; readonly running: number }> {
    return this.orchestrator.call('sagaStats');
  }

  threads(): readonly ThreadUse[] {
    return this.system.threads();
  }

  canInjectErrors(service: string): boolean {
    return this.participants.has(service);
  }

  async injectErrors(service: string, share: number): Promise<void> {
    const participant = this.participants.get(service);
    if (!participant) throw new RangeError(`saga-orchestration has no participant ${service}`);
    await participant.call('errors', share);
  }

  canCrash(service: string): boolean {
    return service === 'orchestrator' || this.participants.has(service);
  }

  /** The orchestrator: killed mid-saga, it restarts and resumes from its log. A participant: its server dies and comes back. */
  async crash(service: string, downMs?: number): Promise<void> {
    if (service === 'orchestrator') return this.orchestrator.call('crash', downMs ?? RESTART_DELAY_MS);
    const participant = this.participants.get(service);
    if (!participant) throw new RangeError(`saga-orchestration cannot crash ${service}`);
    return participant.call('crash', downMs ?? PARTICIPANT_RESTART_MS);
  }

  async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && !this.stopped && !(await this.orchestrator.call('idle').catch(() => false))) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.client.close();
    await this.system.stop();
    await this.store.close();
  }
}

/** SubmitOrder: accepted at the first update (the saga's start is logged), done at the terminal one. A client of a served orchestrator places its orders with it too. */
export function submitOrder(client: Client, order: OrderRequest, timeoutMs: number): Promise<OrderOutcome> {
  const proto = loadOrderProto();
  return new Promise((resolve, reject) => {
    const stream = serverStream(client, proto.OrderService.SubmitOrder, { ...order, items: [...order.items] }, timeoutMs);
    let acceptedAt: number | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(new OrderFailedError(order.orderId, statusName(err), (err as { details?: string }).details ?? String(err)));
    };
    stream.on('data', (update: OrderUpdate) => {
      acceptedAt ??= performance.now();
      if (settled || (update.status !== 'CONFIRMED' && update.status !== 'CANCELLED')) return;
      settled = true;
      resolve({ ...toOutcome(update), acceptedAt });
    });
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('the order stream ended before the order was terminal')));
  });
}

async function start(ctx: PatternContext): Promise<OrchestratedSaga> {
  const settings = GRPC_DEFAULTS;
  const placement = ctx.options.placement ?? DEFAULT_PLACEMENT;
  const system = PlacedSystem.open({ placement, network: ctx.network, random: ctx.random.fork(), ...(ctx.threads ? { threads: ctx.threads } : {}) });
  let store: PlacedStore | undefined;
  let client: Client | undefined;
  try {
    store = await placeStore(system, ctx, 'saga-store');
    const participants = new Map<string, ComponentHandle<GrpcServiceApi>>();
    const routed = {} as Record<(typeof PARTICIPANTS)[number], Address>;
    for (const service of PARTICIPANTS) {
      const handle = await system.start(service, GRPC_SERVICE, { service, world: ctx.world, settings });
      participants.set(service, handle);
      routed[service] = await ctx.network.route(`saga:${service}`, addressOf(handle, 'grpc'));
    }
    const orchestrator = await system.start('orchestrator', ORCHESTRATOR, {
      store: await store.specFor('orchestrator'),
      participants: routed,
      settings,
      seed: ctx.random.int(0, 2 ** 31),
      resilience: ctx.options.resilience ?? 'default',
    });
    client = createClient(await ctx.network.route('saga:orchestrator', addressOf(orchestrator, 'grpc')), channelOptions(settings));
    const saga = new OrchestratedSaga(system, store, orchestrator, participants, client);
    await saga.measureFromNow();
    return saga;
  } catch (err) {
    client?.close();
    await system.stop();
    await store?.close();
    throw err;
  }
}

export const sagaOrchestrationPattern: Pattern = {
  id: 'saga-orchestration',
  title: 'Saga — orchestration',
  summary: 'An orchestrator runs an explicit state machine over gRPC, logs every decision, compensates in reverse order.',
  tradeOffs: {
    pros: [
      'The workflow is written down in one place: steps, compensations, the pivot',
      'A crashed orchestrator resumes every saga from its log',
      'Retries, timeouts and compensations are one component’s policy',
    ],
    cons: [
      'The orchestrator is one more service, and on the path of every order',
      'Every decision is a write to the saga log (latency, and a store to run)',
      'Participants must be idempotent: resumed sagas repeat a step',
    ],
    whenToUse: 'Many steps, compensations that must happen, and a workflow the business wants to read and audit.',
  },
  uses: ['event-store'],
  readPath: READ_PATH,
  describeResilience: (name) => describeOrchestratorPolicy(ORCHESTRATOR_POLICIES[name], GRPC_DEFAULTS.hopTimeoutMs),
  start,
};
