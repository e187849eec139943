import type { Random } from '../random.js';
import type { SystemSnapshot, World } from '../workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';

/** How a pattern's messages travel, as the report names it. */
export interface TransportInfo {
  /** e.g. "in-process", "HTTP/1.1", "HTTP/2 (gRPC)", "AMQP 0-9-1". */
  readonly protocol: string;
  /** e.g. "none", "JSON", "protobuf". */
  readonly encoding: string;
  /** The broker used, or null when the pattern needs none. */
  readonly broker: string | null;
  /** Where the services run: "same event loop as the load generator" or "worker thread". */
  readonly placement: string;
}

/** The pattern's trade-offs in our own words, shown beside the measurements in the report. */
export interface TradeOffs {
  readonly pros: readonly string[];
  readonly cons: readonly string[];
  readonly whenToUse: string;
}

/** Where a pattern's services run. */
export type Placement = 'same-thread' | 'worker';

/** Options a run hands to every pattern; each pattern reads the ones it needs. */
export interface PatternOptions {
  /** `embedded` or an amqp:// URL. */
  readonly broker: string;
  /** `memory` or a postgres:// URL. */
  readonly eventStore: string;
  /** Where to run the services; undefined: the pattern's own default (chosen by measurement). */
  readonly placement?: Placement;
}

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * The run's network: every socket hop a pattern opens (a downstream service, the broker,
 * the event store's database) is dialled at the address `route` returns, so the run can
 * put a fault proxy in front of it. `hop` names the hop for the report, e.g.
 * `rest:payments`. The default routes straight to the target.
 */
export interface Network {
  route(hop: string, target: Address): Promise<Address>;
}

export const DIRECT_NETWORK: Network = { route: async (_hop, target) => target };

export interface PatternContext {
  /** Initial stock and balances: a pattern builds its services from this. */
  readonly world: World;
  /** The pattern's own seeded stream (jitter, ids); never Math.random. */
  readonly random: Random;
  readonly options: PatternOptions;
  readonly network: Network;
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

export interface Pattern {
  readonly id: string;
  readonly title: string;
  /** One line, shown by `pattern-bench list`. */
  readonly summary: string;
  readonly tradeOffs: TradeOffs;
  start(ctx: PatternContext): Promise<RunningPattern>;
}

/** Bytes and messages that crossed the pattern's sockets, counted at the sockets. */
export interface WireStats {
  readonly bytes: number;
  readonly messages: number;
}

/** A running pattern that has a wire and meters it. */
export interface WireMetered {
  wireStats(): WireStats;
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
  hopErrors(): Readonly<Record<string, number>>;
}

export function isHopErrorCounter(p: RunningPattern): p is RunningPattern & HopErrorCounter {
  return typeof (p as Partial<HopErrorCounter>).hopErrors === 'function';
}
