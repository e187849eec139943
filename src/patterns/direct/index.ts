import type { ComponentModule } from '../../placement/component.js';
import { PlacedSystem } from '../../placement/system.js';
import { DEFAULT_PLACEMENT } from '../../placement/types.js';
import type { ErrorInjectable, HopErrorCounter, OrderReader, PackedSnapshotReader, Pattern, RunningPattern, ThreadReporter, TransportInfo } from '../types.js';
import { MODULES, startMonolith, type Module, type MonolithApi, type MonolithInit } from './monolith.js';

/** Where a worker finds the monolith (monolith.ts from the sources, monolith.js when built). */
export const MONOLITH: ComponentModule<MonolithInit, MonolithApi> = {
  url: new URL('./monolith.js', import.meta.url),
  exportName: 'startMonolith',
  factory: startMonolith,
};

/** A monolith module's hop deadline: the same as REST's and gRPC's, ms. */
const HOP_TIMEOUT_MS = 2000;

/** Direct's read path (OrderReader.readPath): the same boundary as placeOrder. */
const DIRECT_READ_PATH = "a function call to the orders module's customerOrders (posted to the system thread unless same-thread)";

/** In-process orchestration over plain function calls: the ceiling with no transport. */
export const directPattern: Pattern = {
  id: 'direct',
  title: 'Direct call',
  summary: 'A modular monolith: the services are modules calling each other as functions; the no-transport ceiling.',
  tradeOffs: {
    pros: ['No network, no serialisation: the fastest and simplest possible', 'One stack trace for the whole order'],
    cons: ['Services cannot be deployed, scaled or fail independently', 'One process is one failure domain'],
    whenToUse: 'A modular monolith: when the services share a team, a release cycle and a database.',
  },
  resilient: true,
  readPath: DIRECT_READ_PATH,
  async start(ctx): Promise<RunningPattern & OrderReader & HopErrorCounter & ErrorInjectable & ThreadReporter & PackedSnapshotReader> {
    const placement = ctx.options.placement ?? DEFAULT_PLACEMENT;
    const system = PlacedSystem.open({ placement, network: ctx.network, random: ctx.random.fork(), ...(ctx.threads ? { threads: ctx.threads } : {}) });
    let monolith;
    try {
      monolith = await system.start('monolith', MONOLITH, {
        world: ctx.world,
        hopTimeoutMs: HOP_TIMEOUT_MS,
        resilience: ctx.options.resilience ?? 'default',
        seed: ctx.random.int(0, 2 ** 31),
      });
    } catch (err) {
      await system.stop();
      throw err;
    }
    const handle = monolith;
    return {
      transport: transportOf(placement, ctx.threads?.topology === 'processes'),
      placeOrder: (order) => handle.call('placeOrder', order),
      readPath: DIRECT_READ_PATH,
      customerOrders: (customerId) => handle.call('customerOrders', customerId),
      snapshot: () => handle.call('snapshot'),
      packedSnapshot: () => handle.call('packedSnapshot'),
      hopErrors: () => handle.call('hopErrors'),
      canInjectErrors: (service) => (MODULES as readonly string[]).includes(service),
      injectErrors: (service, share) => handle.call('moduleErrors', service as Module, share),
      threads: () => system.threads(),
      stop: () => system.stop(),
    };
  },
};

function transportOf(placement: TransportInfo['placement'], inChildProcess: boolean): TransportInfo {
  const notes = ['one program: its services are modules that call each other as functions; each module boundary is a fault gate (direct:payments…)'];
  if (inChildProcess) notes.push('topology processes: the monolith is one child process; the client posts each order to it over the IPC channel (a pipe, structured clone), not a socket');
  else if (placement === 'per-service') notes.push('per-service: function calls cannot cross threads, so the monolith runs on one thread of its own');
  return placement === 'same-thread'
    ? { protocol: 'function calls', encoding: 'none', broker: null, placement, notes }
    : { protocol: 'function calls (the client posts each order to the system thread)', encoding: 'structured clone', broker: null, placement, notes };
}
