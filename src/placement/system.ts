import type { BoundaryController, BoundaryStats } from '../faults/boundary.js';
import type { Network } from '../net/address.js';
import type { Random } from '../random.js';
import type { ComponentApi, ComponentHandle, ComponentModule } from './component.js';
import { ThreadPool } from './pool.js';
import type { SystemThread } from './thread.js';
import { threadFor, type Placement } from './types.js';

/** What a pattern hands its system from the run. */
export interface SystemContext {
  readonly placement: Placement;
  readonly network: Network;
  readonly random: Random;
  /** The run's threads; without one the system makes its own and ends them at stop(). */
  readonly threads?: ThreadPool;
}

/** A thread and the components of this system on it. */
export interface ThreadUse {
  readonly thread: SystemThread;
  readonly components: readonly string[];
}

/** A network that can also drive boundary gates (the run's FaultNetwork). */
interface BoundaryNetwork extends Network {
  attachBoundary(hop: string, controller: BoundaryController): void;
}

function hasBoundaries(network: Network): network is BoundaryNetwork {
  return typeof (network as Partial<BoundaryNetwork>).attachBoundary === 'function';
}

let nextSystem = 0;

/**
 * A pattern's system under test, placed: `start(name, …)` runs component `name` on the
 * thread the run's placement gives it (the main thread, the shared system thread, or a
 * thread of its own), attaches its boundary gates to the run's fault plane, and hands back
 * a handle that reaches it wherever it runs. `stop()` stops the components newest first.
 */
export class PlacedSystem {
  private readonly started: { readonly id: string; readonly thread: SystemThread }[] = [];
  private readonly uses = new Map<string, { thread: SystemThread; components: string[] }>();
  private readonly prefix = `s${++nextSystem}`;
  private stopped = false;

  private constructor(
    readonly placement: Placement,
    private readonly pool: ThreadPool,
    private readonly ownsPool: boolean,
    private readonly network: Network,
    private readonly random: Random,
  ) {}

  static open(ctx: SystemContext): PlacedSystem {
    return new PlacedSystem(ctx.placement, ctx.threads ?? new ThreadPool(), ctx.threads === undefined, ctx.network, ctx.random);
  }

  async start<I, A extends ComponentApi>(name: string, module: ComponentModule<I, A>, init: I): Promise<ComponentHandle<A>> {
    if (this.stopped) throw new Error(`the system is stopped; cannot start ${name}`);
    const thread = await this.pool.thread(threadFor(this.placement, name));
    const id = `${this.prefix}:${name}`;
    const started = await thread.start(id, name, module, init, this.random.int(0, 2 ** 31), this.pool.journal);
    this.started.push({ id, thread });
    const use = this.uses.get(thread.name) ?? { thread, components: [] };
    use.components.push(name);
    this.uses.set(thread.name, use);
    for (const hop of started.gates) this.attachGate(thread, id, hop);
    return {
      name,
      thread: thread.name,
      addresses: started.addresses,
      call: (method, ...args) => thread.call(id, method, args) as never,
      wire: () => thread.wire(id),
    };
  }

  /** The threads this system runs on, with its components on each, in the order first used. */
  threads(): readonly ThreadUse[] {
    return [...this.uses.values()].map((u) => ({ thread: u.thread, components: [...u.components] }));
  }

  /** Stop every component, newest first (so nothing calls a stopped one); ends the threads if the system made them. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    for (const { id, thread } of this.started.splice(0).reverse()) await thread.stop(id).catch((err: unknown) => errors.push(err));
    if (this.ownsPool) await this.pool.close().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }

  private attachGate(thread: SystemThread, id: string, hop: string): void {
    if (!hasBoundaries(this.network)) return;
    // Ops go in order (one port, or synchronous on the main thread); a failure means the component stopped.
    const send = (op: Parameters<SystemThread['gate']>[2]) => void thread.gate(id, hop, op).catch(() => undefined);
    this.network.attachBoundary(hop, {
      add: (spec) => send({ op: 'add', spec }),
      remove: (name) => send({ op: 'remove', name }),
      clear: () => send({ op: 'clear' }),
      stats: async () => (await thread.gate(id, hop, { op: 'stats' })) as BoundaryStats,
    });
  }
}
