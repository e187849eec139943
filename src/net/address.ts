/** A TCP endpoint. Every server of the system under test binds 127.0.0.1. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Where a server of a run listens: 127.0.0.1, any free port (`pattern-bench serve` gives its --host and --port instead). */
export const LOOPBACK_ANY_PORT: Address = { host: '127.0.0.1', port: 0 };

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
