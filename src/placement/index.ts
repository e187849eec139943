import type { Address, Network, Placement, WireStats } from '../patterns/types.js';
import type { SystemSnapshot } from '../workflow/services.js';
import { startSameThread, type HostModule, type PlacedHost, type RoleInit } from './host.js';
import { startInWorker } from './worker.js';

export { WARM_UP_CALLS, warmUp } from './warmup.js';
export {
  PLACEMENT_LABELS,
  type HostEnv,
  type HostFactory,
  type HostModule,
  type PlacedHost,
  type RoleInit,
  type ServiceHost,
  type ServiceRole,
} from './host.js';

/** Start one service host where `placement` says. */
export function placeHost<I>(placement: Placement, module: HostModule<I>, init: I, network: Network): Promise<PlacedHost> {
  return placement === 'worker' ? startInWorker(module, init, network) : startSameThread(module, init, network);
}

const SPLIT_LABELS: Readonly<Record<Placement, string>> = {
  'same-thread': 'same event loop as the load generator',
  worker: 'worker threads (orders | inventory, payments, notifications)',
};

/**
 * Start a pattern's services as two hosts: the downstream services, then orders, which
 * calls them at the addresses the run's `network` routes their hops to. With `worker`
 * each host has its own thread: orders' side of every hop (and the client's hop) on one,
 * the downstream side on the other, so the services use both cores of a 2-core machine.
 */
export async function placeServices<I extends RoleInit>(
  where: Placement,
  module: HostModule<I>,
  init: I,
  network: Network,
): Promise<PlacedHost> {
  const downstream = await placeHost(where, module, { ...init, role: 'downstream' }, network);
  let orders: PlacedHost;
  try {
    const routed: Record<string, Address> = {};
    for (const [hop, target] of Object.entries(downstream.hops ?? {})) routed[hop] = await network.route(hop, target);
    orders = await placeHost(where, module, { ...init, role: 'orders', downstream: routed }, network);
  } catch (err) {
    await downstream.stop();
    throw err;
  }
  const merge = (o: SystemSnapshot, d: SystemSnapshot): SystemSnapshot => ({
    orders: o.orders,
    inventory: d.inventory,
    payments: d.payments,
    notifications: d.notifications,
  });
  return {
    address: orders.address,
    placement: SPLIT_LABELS[where],
    snapshot: async () => {
      const [o, d] = await Promise.all([orders.snapshot(), downstream.snapshot()]);
      return merge(o, d);
    },
    hopErrors: () => orders.hopErrors(),
    rebaseWire: async () => {
      await Promise.all([orders.rebaseWire(), downstream.rebaseWire()]);
    },
    wireStats: (): WireStats => {
      const o = orders.wireStats();
      const d = downstream.wireStats();
      return { bytes: o.bytes + d.bytes, messages: o.messages + d.messages };
    },
    stop: async () => {
      // Orders first, so no workflow is left calling a closed downstream.
      try {
        await orders.stop();
      } finally {
        await downstream.stop();
      }
    },
  };
}
