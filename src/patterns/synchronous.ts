import type { Address } from '../net/address.js';
import { addressOf, type ComponentHandle, type ComponentModule } from '../placement/component.js';
import { PlacedSystem, type ThreadUse } from '../placement/system.js';
import { DEFAULT_PLACEMENT } from '../placement/types.js';
import { WARM_UP_CALLS, warmUpOnce } from '../placement/warmup.js';
import type { WireStats } from '../wire/meter.js';
import type { OrderRecord } from '../workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import { mergeSnapshots, type CrashableApi, type ErrorsApi, type ServiceApi } from './service-api.js';
import type { Crashable, ErrorInjectable, HopErrorCounter, OrderReader, PatternContext, RunningPattern, ThreadReporter, WireMetered } from './types.js';

/** The client a synchronous pattern talks to its orders service with. */
export interface SynchronousClient {
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** A call the orders service refuses before any effect (warms the code paths). */
  refused(): Promise<unknown>;
  /** The read side: the customer's orders as the orders service holds them, oldest first. */
  customerOrders(customerId: string): Promise<readonly OrderRecord[]>;
  close(): void | Promise<void>;
}

export type DownstreamService = 'inventory' | 'payments' | 'notifications';

export interface SynchronousSpec<I> {
  readonly module: ComponentModule<I, ServiceApi & CrashableApi & ErrorsApi>;
  /** Hop names are `<prefix>:<service>`, e.g. `rest:payments`. */
  readonly prefix: string;
  /** The address name each service publishes (`http`, `grpc`). */
  readonly listen: string;
  downstream(service: DownstreamService): I;
  /** Orders' init, with the downstream services' addresses already routed. */
  orders(routed: Readonly<Record<DownstreamService, Address>>): I;
  readonly protocol: string;
  readonly encoding: string;
  /** The read's path in words (OrderReader.readPath). */
  readonly readPath: string;
  connect(address: Address): SynchronousClient;
}

/** How long a crashed synchronous service stays down before it listens again, ms. */
export const CRASH_RESTART_MS = 50;

const DOWNSTREAM: readonly DownstreamService[] = ['inventory', 'payments', 'notifications'];

/**
 * Start a synchronous pattern (REST, gRPC): place its four services, each reached only
 * through the run's network (`<prefix>:<service>` hops), connect the client to orders,
 * warm up, and count the wire from there on. Reads go over the same client and hop as orders.
 */
export async function startSynchronous<I>(ctx: PatternContext, spec: SynchronousSpec<I>): Promise<RunningPattern & OrderReader & WireMetered & HopErrorCounter & Crashable & ErrorInjectable & ThreadReporter> {
  const placement = ctx.options.placement ?? DEFAULT_PLACEMENT;
  const system = PlacedSystem.open({ placement, network: ctx.network, random: ctx.random.fork(), ...(ctx.threads ? { threads: ctx.threads } : {}) });
  const handles = new Map<string, ComponentHandle<ServiceApi & CrashableApi & ErrorsApi>>();
  let client: SynchronousClient | undefined;
  try {
    const routed = {} as Record<DownstreamService, Address>;
    for (const service of DOWNSTREAM) {
      const handle = await system.start(service, spec.module, spec.downstream(service));
      handles.set(service, handle);
      routed[service] = await ctx.network.route(`${spec.prefix}:${service}`, addressOf(handle, spec.listen));
    }
    const orders = await system.start('orders', spec.module, spec.orders(routed));
    handles.set('orders', orders);
    client = spec.connect(await ctx.network.route(`${spec.prefix}:orders`, addressOf(orders, spec.listen)));
    await warmUpOnce(`${spec.prefix} client`, WARM_UP_CALLS, 10, client.refused);
  } catch (err) {
    await client?.close();
    await system.stop();
    throw err;
  }
  const connected = client;
  const base = await wireOf([...handles.values()]);
  const handle = (service: string) => {
    const h = handles.get(service);
    if (!h) throw new RangeError(`no service ${JSON.stringify(service)} (known: ${[...handles.keys()].join(', ')})`);
    return h;
  };
  return {
    transport: { protocol: spec.protocol, encoding: spec.encoding, broker: null, placement },
    placeOrder: connected.placeOrder,
    readPath: spec.readPath,
    customerOrders: connected.customerOrders,
    snapshot: async () => mergeSnapshots(await Promise.all([...handles.values()].map((h) => h.call('snapshot')))),
    wireStats: async () => minus(await wireOf([...handles.values()]), base),
    hopErrors: () => handle('orders').call('hopErrors'),
    canCrash: (service) => handles.has(service),
    crash: async (service, downMs = CRASH_RESTART_MS) => handle(service).call('crash', downMs),
    canInjectErrors: (service) => handles.has(service),
    injectErrors: (service, share) => handle(service).call('errors', share),
    threads: (): readonly ThreadUse[] => system.threads(),
    stop: async () => {
      await connected.close();
      await system.stop();
    },
  };
}

/** Wire stats summed over components. */
export async function wireOf(handles: readonly Pick<ComponentHandle<ServiceApi>, 'wire'>[]): Promise<WireStats> {
  const all = await Promise.all(handles.map((h) => h.wire()));
  return all.reduce((a, b) => ({ bytes: a.bytes + b.bytes, messages: a.messages + b.messages }), { bytes: 0, messages: 0 });
}

export function minus(a: WireStats, b: WireStats): WireStats {
  return { bytes: a.bytes - b.bytes, messages: a.messages - b.messages };
}
