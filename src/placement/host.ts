import type { Address, Network, Placement, WireStats } from '../patterns/types.js';
import type { SystemSnapshot } from '../workflow/services.js';
import { WireMeter } from '../wire/meter.js';

/** What a pattern's service host gets from where it runs. */
export interface HostEnv {
  /** Dial every hop at the address this returns (a fault proxy may sit there). */
  readonly network: Network;
  /** Meter every server socket the services open. */
  readonly meter: WireMeter;
}

/**
 * A pattern's running services (orders, inventory, payments, notifications), reachable
 * only through their transport at `address` (the entry service). Everything else it
 * offers is plain data, so the host can live in another thread.
 */
export interface ServiceHost {
  readonly address: Address;
  /** The (unrouted) addresses of the downstream services this host serves, by hop name. */
  readonly hops?: Readonly<Record<string, Address>>;
  snapshot(): Promise<SystemSnapshot>;
  hopErrors(): Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * Starts a pattern's services. `init` must be structured-clone safe (it may be posted to a
 * worker); the factory must be an export of the module named in `HostModule`.
 */
export type HostFactory<I> = (init: I, env: HostEnv) => Promise<ServiceHost>;

/** Where to find a host factory from another thread: a module URL and its export name. */
export interface HostModule<I> {
  readonly url: URL;
  readonly exportName: string;
  readonly factory: HostFactory<I>;
}

/** A service host as the pattern's client sees it, wherever it runs. */
export interface PlacedHost {
  readonly address: Address;
  readonly hops?: Readonly<Record<string, Address>>;
  /** For the report: "worker thread" or "same event loop as the load generator". */
  readonly placement: string;
  snapshot(): Promise<SystemSnapshot>;
  hopErrors(): Readonly<Record<string, number>>;
  /**
   * Cumulative since start (or since `rebaseWire`). In a worker: as of the last publish
   * (≤ 100 ms old; exact after `snapshot()`).
   */
  wireStats(): WireStats;
  /** Count the wire from now on: what the pattern's start-up warm-up sent is not an order's. */
  rebaseWire(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Which of a pattern's services a host runs: `all` of them, the `downstream` ones
 * (inventory, payments, notifications), or `orders` alone, calling the downstream services
 * at the addresses in `downstream` (already routed).
 */
export type ServiceRole = 'all' | 'downstream' | 'orders';

/** The part of a host factory's init that says its role (see `placeServices`). */
export interface RoleInit {
  readonly role?: ServiceRole;
  readonly downstream?: Readonly<Record<string, Address>>;
}

export const PLACEMENT_LABELS: Readonly<Record<Placement, string>> = {
  'same-thread': 'same event loop as the load generator',
  worker: 'worker thread',
};

/** Run a host in the caller's event loop. */
export async function startSameThread<I>(module: HostModule<I>, init: I, network: Network): Promise<PlacedHost> {
  const meter = new WireMeter();
  const host = await module.factory(init, { network, meter });
  let base: WireStats = { bytes: 0, messages: 0 };
  return {
    address: host.address,
    ...(host.hops ? { hops: host.hops } : {}),
    placement: PLACEMENT_LABELS['same-thread'],
    snapshot: () => host.snapshot(),
    hopErrors: () => host.hopErrors(),
    wireStats: () => minus(meter.stats(), base),
    rebaseWire: async () => {
      base = meter.stats();
    },
    stop: () => host.stop(),
  };
}

export function minus(a: WireStats, b: WireStats): WireStats {
  return { bytes: a.bytes - b.bytes, messages: a.messages - b.messages };
}
