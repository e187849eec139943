import type { LatencySummary } from '../metrics/histogram.js';
import type { Random } from '../random.js';
import type { PackedSnapshot } from '../workflow/packed-snapshot.js';
import { packSnapshot } from '../workflow/packed-snapshot.js';
import type { SystemSnapshot, World } from '../workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import type { OrderRecord } from '../workflow/orders.js';

/** How a pattern's messages travel, as the report names it. */
export interface TransportInfo {
  /** e.g. "in-process", "HTTP/1.1", "HTTP/2 (gRPC)", "AMQP 0-9-1". */
  readonly protocol: string;
  /** e.g. "none", "JSON", "protobuf". */
  readonly encoding: string;
  /** The broker used, or null when the pattern needs none. */
  readonly broker: string | null;
  /** Where the system under test ran: the run's placement (`same-thread`, `shared`, `per-service`). */
  readonly placement: Placement;
  /** What this pattern does differently from the others, in words, for the report (same footing, DESIGN.md). */
  readonly notes?: readonly string[];
  /** Traffic the wire figures leave out, named (e.g. `PostgreSQL`): the report marks bytes and messages "excl." it. */
  readonly wireExcludes?: string;
}

/** The pattern's trade-offs in our own words, shown beside the measurements in the report. */
export interface TradeOffs {
  readonly pros: readonly string[];
  readonly cons: readonly string[];
  readonly whenToUse: string;
}

export type { Placement } from '../placement/types.js';

/** Options a run hands to every pattern; each pattern reads the ones it needs. */
export interface PatternOptions {
  /** `embedded` or an amqp:// URL. */
  readonly broker: string;
  /** `memory` or a postgres:// URL. */
  readonly eventStore: string;
  /** Where every part of the system under test runs; default DEFAULT_PLACEMENT (src/placement/types.ts). */
  readonly placement?: Placement;
  /**
   * Queue consumers' acknowledgements: `manual` (default, at-least-once) or `auto`
   * (noAck, at-most-once — the teaching toggle that loses orders when a consumer dies).
   */
  readonly queueAck?: 'manual' | 'auto';
  /** Resilience policy of the workflow's synchronous hops (timeouts, retries, breaker). Default `default`. */
  readonly resilience?: 'none' | 'default';
}

export { DIRECT_NETWORK, type Address, type Network } from '../net/address.js';
import type { Network } from '../net/address.js';
import type { ThreadUse } from '../placement/system.js';
import type { ThreadPool } from '../placement/pool.js';
import type { Placement } from '../placement/types.js';

export interface PatternContext {
  /** Initial stock and balances: a pattern builds its services from this. */
  readonly world: World;
  /** The pattern's own seeded stream (jitter, ids); never Math.random. */
  readonly random: Random;
  readonly options: PatternOptions;
  readonly network: Network;
  /** The run's threads, reused from run to run; a pattern started without one makes its own. */
  readonly threads?: ThreadPool;
}

export interface RunningPattern {
  readonly transport: TransportInfo;
  /** Place one order; resolves when the order is terminal (or rejects when it failed). */
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** The services' state, read through the pattern (the services may live elsewhere). */
  snapshot(): Promise<SystemSnapshot>;
  /** Close every socket, server, consumer and timer the pattern opened. */
  stop(): Promise<void>;
}

/**
 * The read side (issue #16): list a customer's orders, with their status, over the
 * pattern's own natural path, from the client's side like `placeOrder`.
 */
export interface OrderReader {
  /** The path in words, for the pattern card (e.g. `GET /customers/:id/orders`). */
  readonly readPath: string;
  /** The customer's orders, oldest first; an unknown customer has none. */
  customerOrders(customerId: string): Promise<readonly OrderRecord[]>;
}

export function isOrderReader(p: RunningPattern): p is RunningPattern & OrderReader {
  return typeof (p as Partial<OrderReader>).customerOrders === 'function';
}

export interface Pattern {
  readonly id: string;
  readonly title: string;
  /** One line, shown by `pattern-bench list`. */
  readonly summary: string;
  readonly tradeOffs: TradeOffs;
  /** The pattern wraps its synchronous hops in the run's resilience policy (shown in the report). */
  readonly resilient?: boolean;
  /** A pattern with a retry policy of its own (the orchestrator's): what `--resilience <name>` means for it, in words. */
  describeResilience?(name: 'none' | 'default'): string[];
  /**
   * Not in the default set: run only when `--patterns` names it. Why, in words (the pattern
   * card and the report show it; `list` marks the default set). Absent: in the default set.
   */
  readonly optIn?: string;
  /** How a read of a customer's orders travels (OrderReader.readPath), for the pattern card. Absent: no read side yet. */
  readonly readPath?: string;
  /** External services this pattern talks to when the run names one (checked before the run). */
  readonly uses?: readonly ('broker' | 'event-store')[];
  start(ctx: PatternContext): Promise<RunningPattern>;
}

export type { WireStats } from '../wire/meter.js';
import type { WireStats } from '../wire/meter.js';

/** A running pattern that has a wire and meters it. */
export interface WireMetered {
  /** Cumulative since the pattern started measuring (after its start-up warm-up). */
  wireStats(): Promise<WireStats>;
}

export function isWireMetered(p: RunningPattern): p is RunningPattern & WireMetered {
  return typeof (p as Partial<WireMetered>).wireStats === 'function';
}

/**
 * A running pattern that keeps working after `placeOrder` settles (consumers, projections,
 * compensations): `drain` resolves once it is idle, or after `timeoutMs`.
 */
export interface Drainable {
  drain(timeoutMs: number): Promise<void>;
}

export function isDrainable(p: RunningPattern): p is RunningPattern & Drainable {
  return typeof (p as Partial<Drainable>).drain === 'function';
}

/** Errors seen on the pattern's internal hops, by kind (e.g. `charge:ECONNREFUSED`). */
export interface HopErrorCounter {
  hopErrors(): Promise<Readonly<Record<string, number>>>;
}

export function isHopErrorCounter(p: RunningPattern): p is RunningPattern & HopErrorCounter {
  return typeof (p as Partial<HopErrorCounter>).hopErrors === 'function';
}

/** Backlog figures of a pattern that queues work. */
export interface Backlog {
  /** Most messages waiting in the pattern's queues at once (sampled). */
  readonly peakDepth: number;
  /** ms from the end of the load until the system was idle; null before any drain. */
  readonly drainMs: number | null;
}

export interface BacklogReporter {
  backlog(): Promise<Backlog>;
}

export function isBacklogReporter(p: RunningPattern): p is RunningPattern & BacklogReporter {
  return typeof (p as Partial<BacklogReporter>).backlog === 'function';
}

/**
 * A running pattern whose services can be crashed on purpose (an application fault):
 * the service dies abruptly — mid-batch — and comes back; unfinished work is redone.
 */
export interface Crashable {
  /** Whether this pattern can crash `service` itself (otherwise the run takes its hops down). */
  canCrash(service: string): boolean;
  /**
   * Crash `service` abruptly (mid-batch) and bring it back after `downMs` (default: the
   * pattern's own short restart). Resolves once it is down.
   */
  crash(service: string, downMs?: number): Promise<void>;
}

export function isCrashable(p: RunningPattern): p is RunningPattern & Crashable {
  return typeof (p as Partial<Crashable>).crash === 'function';
}

/** A running pattern whose services can fail a share of their calls on purpose (the `flaky` scenario). */
export interface ErrorInjectable {
  canInjectErrors(service: string): boolean;
  /** From now on `service` fails `share` of the calls it receives (0: none) with a transient error. */
  injectErrors(service: string, share: number): Promise<void>;
}

export function isErrorInjectable(p: RunningPattern): p is RunningPattern & ErrorInjectable {
  return typeof (p as Partial<ErrorInjectable>).injectErrors === 'function';
}

/** A pattern that compensates (sagas): failure detected → fully compensated, ms. */
export interface CompensationReporter {
  compensation(): Promise<LatencySummary>;
}

export function isCompensationReporter(p: RunningPattern): p is RunningPattern & CompensationReporter {
  return typeof (p as Partial<CompensationReporter>).compensation === 'function';
}

/** Saga execution figures: steps run (retries included), sagas resumed after a restart, and executions running now. */
export interface SagaStats {
  sagaStats(): Promise<{ readonly stepsRun: number; readonly resumed: number; readonly running: number }>;
}

export function isSagaStats(p: RunningPattern): p is RunningPattern & SagaStats {
  return typeof (p as Partial<SagaStats>).sagaStats === 'function';
}

/** A pattern whose system runs on threads it can name (every placed pattern): for cost per thread. */
export interface ThreadReporter {
  threads(): readonly ThreadUse[];
}

export function isThreadReporter(p: RunningPattern): p is RunningPattern & ThreadReporter {
  return typeof (p as Partial<ThreadReporter>).threads === 'function';
}

/**
 * A pattern whose system can hand its state over packed in columns (packed-snapshot.ts):
 * the same state as `snapshot()`, without an object per record on either side of the thread
 * boundary. Direct's capacity run holds a few hundred thousand orders.
 */
export interface PackedSnapshotReader {
  packedSnapshot(): Promise<PackedSnapshot>;
}

export function isPackedSnapshotReader(p: RunningPattern): p is RunningPattern & PackedSnapshotReader {
  return typeof (p as Partial<PackedSnapshotReader>).packedSnapshot === 'function';
}

/** The system's state, packed: as the system hands it over where it can, else its snapshot packed here. */
export async function packedStateOf(p: RunningPattern): Promise<PackedSnapshot> {
  return isPackedSnapshotReader(p) ? p.packedSnapshot() : packSnapshot(await p.snapshot());
}
