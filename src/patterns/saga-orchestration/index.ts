import { performance } from 'node:perf_hooks';
import type { Client } from '@grpc/grpc-js';
import type { LatencySummary } from '../../metrics/histogram.js';
import { openEventStore } from '../../event-store/index.js';
import type { EventStore } from '../../event-store/types.js';
import { createServices, snapshotServices, type SystemSnapshot, type WorkflowServices } from '../../workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import { routeEventStore } from '../../net/route-url.js';
import { WireMeter } from '../../wire/meter.js';
import { channelOptions, GRPC_DEFAULTS, startParticipantServers, grpcPorts, type ParticipantServers } from '../grpc/services.js';
import { createClient } from '../grpc/calls.js';
import { loadOrderProto } from '../grpc/proto.js';
import type {
  CompensationReporter,
  Crashable,
  Drainable,
  HopErrorCounter,
  Pattern,
  PatternContext,
  RunningPattern,
  SagaStats,
  TransportInfo,
  WireMetered,
} from '../types.js';
import type { SagaParticipants } from './definition.js';
import { Orchestrator } from './orchestrator.js';

/** ms an orchestrator stays dead after a crash before it restarts and reads its log. */
const RESTART_DELAY_MS = 50;

/**
 * The orchestrated saga: an orchestrator with an explicit state machine and a saga log
 * (the event store: memory, or PostgreSQL) calls inventory, payments and notifications
 * over gRPC with deadlines; the orders service is the orchestrator's own.
 */
class OrchestratedSaga implements RunningPattern, WireMetered, Drainable, Crashable, HopErrorCounter, CompensationReporter, SagaStats {
  readonly transport: TransportInfo;
  private readonly placed = new Set<string>();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly services: WorkflowServices,
    private readonly orchestrator: Orchestrator,
    private readonly log: EventStore,
    private readonly servers: ParticipantServers,
    private readonly clients: readonly Client[],
    private readonly meter: WireMeter,
    private readonly errors: Record<string, number>,
  ) {
    this.transport = {
      protocol: 'HTTP/2 (gRPC)',
      encoding: 'protobuf',
      broker: null,
      placement: `same event loop as the load generator; saga log: ${log.kind}`,
    };
  }

  async placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    const { orders } = this.services;
    if (!orders.create(order)) return orders.whenTerminal(order.orderId);
    this.placed.add(order.orderId);
    await this.orchestrator.start(order); // the saga is accepted once its start is logged
    const acceptedAt = performance.now();
    const outcome = await orders.whenTerminal(order.orderId);
    return { ...outcome, acceptedAt };
  }

  async snapshot(): Promise<SystemSnapshot> {
    return snapshotServices(this.services);
  }

  wireStats() {
    return this.meter.stats();
  }

  hopErrors(): Readonly<Record<string, number>> {
    return { ...this.errors };
  }

  compensation(): LatencySummary {
    return this.orchestrator.compensationLatency();
  }

  sagaStats() {
    return { stepsRun: this.orchestrator.stepsRun, resumed: this.orchestrator.resumed };
  }

  canCrash(service: string): boolean {
    return service === 'orchestrator';
  }

  /** Kill the orchestrator mid-saga; it restarts shortly and resumes every unfinished saga from its log. */
  async crash(service: string): Promise<void> {
    if (!this.canCrash(service)) throw new RangeError(`saga-orchestration cannot crash ${service}`);
    this.orchestrator.crash();
    await new Promise<void>((resolve) => (this.restartTimer = setTimeout(resolve, RESTART_DELAY_MS)));
    this.restartTimer = undefined;
    if (!this.stopped) await this.orchestrator.recover();
  }

  async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const { orders } = this.services;
    const allTerminal = () => [...this.placed].every((id) => orders.outcome(id) !== undefined);
    while (performance.now() < deadline && !this.stopped && !(this.orchestrator.idle && allTerminal())) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.orchestrator.stop();
    for (const client of this.clients) client.close();
    await this.servers.close();
    await this.log.close();
  }
}

async function start(ctx: PatternContext): Promise<OrchestratedSaga> {
  const settings = GRPC_DEFAULTS;
  const services = createServices(ctx.world);
  const meter = new WireMeter();
  const errors: Record<string, number> = {};
  const log = await openEventStore(await routeEventStore(ctx.network, 'saga:event-store', ctx.options.eventStore));
  let servers: ParticipantServers | undefined;
  const clients: Client[] = [];
  try {
    servers = await startParticipantServers(services, settings, meter);
    const proto = loadOrderProto();
    const client = async (hop: string, target: Parameters<typeof createClient>[0]) => {
      const c = createClient(await ctx.network.route(hop, target), channelOptions(settings));
      clients.push(c);
      return c;
    };
    const ports = grpcPorts(
      proto,
      {
        inventory: await client('saga:inventory', servers.inventory),
        payments: await client('saga:payments', servers.payments),
        notifications: await client('saga:notifications', servers.notifications),
      },
      settings.hopTimeoutMs,
    );
    // Each attempt is bounded by the gRPC deadline; the orchestrator decides how often to retry.
    const timed = ports;
    const count = (hop: string) => (err: unknown) => {
      const code = (err as { code?: unknown }).code;
      const key = `${hop}:${typeof code === 'number' || typeof code === 'string' ? code : err instanceof Error ? err.name : 'error'}`;
      errors[key] = (errors[key] ?? 0) + 1;
      throw err;
    };
    const { orders } = services;
    const participants: SagaParticipants = {
      charge: (o) => timed.charge(o).catch(count('charge')),
      refund: (id) => timed.refund(id).catch(count('refund')),
      reserve: (o) => timed.reserve(o).catch(count('reserve')),
      release: (id) => timed.release(id).catch(count('release')),
      notify: (id, status) => timed.notify(id, status).catch(count('notify')),
      confirm: async (id) => {
        orders.advance(id, 'RESERVED');
        orders.finish(id, 'CONFIRMED');
      },
      cancel: async (id, reason) => {
        orders.finish(id, 'CANCELLED', reason);
      },
    };
    const orchestrator = new Orchestrator(log, participants, ctx.random.fork());
    return new OrchestratedSaga(services, orchestrator, log, servers, clients, meter, errors);
  } catch (err) {
    for (const c of clients) c.close();
    await servers?.close();
    await log.close();
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
  start,
};
