import type { Address, HopErrorCounter, PatternContext, Placement, RunningPattern, WireMetered } from '../patterns/types.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import type { HostModule, RoleInit } from './host.js';
import { placeServices } from './index.js';
import { WARM_UP_CALLS, warmUp } from './warmup.js';

/** The client a synchronous pattern talks to its orders service with. */
export interface SynchronousClient {
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** A call the orders service refuses before any effect (warms the code paths). */
  refused(): Promise<unknown>;
  close(): void | Promise<void>;
}

export interface SynchronousSpec<I> {
  readonly module: HostModule<I>;
  readonly init: I;
  readonly defaultPlacement: Placement;
  /** Hop name of the client → orders connection, e.g. `rest:orders`. */
  readonly hop: string;
  readonly protocol: string;
  readonly encoding: string;
  connect(address: Address): SynchronousClient;
}

/**
 * Start a synchronous pattern (REST, gRPC): place its services, connect the client
 * through the run's network, warm up, and count the wire from there on.
 */
export async function startSynchronous<I extends RoleInit>(
  ctx: PatternContext,
  spec: SynchronousSpec<I>,
): Promise<RunningPattern & WireMetered & HopErrorCounter> {
  const host = await placeServices(ctx.options.placement ?? spec.defaultPlacement, spec.module, spec.init, ctx.network);
  let client: SynchronousClient;
  try {
    client = spec.connect(await ctx.network.route(spec.hop, host.address));
    await warmUp(WARM_UP_CALLS, 10, client.refused);
    await host.rebaseWire();
  } catch (err) {
    await host.stop();
    throw err;
  }
  return {
    transport: { protocol: spec.protocol, encoding: spec.encoding, broker: null, placement: host.placement },
    placeOrder: client.placeOrder,
    snapshot: () => host.snapshot(),
    wireStats: () => host.wireStats(),
    hopErrors: () => host.hopErrors(),
    stop: async () => {
      await client.close();
      await host.stop();
    },
  };
}
