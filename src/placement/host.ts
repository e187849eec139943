import { setJournal } from '../workflow/clock.js';
import { BoundaryGate } from '../faults/boundary.js';
import type { FaultSpec } from '../faults/toxics/registry.js';
import { seededRandom } from '../random.js';
import { WireMeter, type WireStats } from '../wire/meter.js';
import type { Address } from '../net/address.js';
import type { ComponentApi, ComponentEnv, ComponentFactory, RunningComponent } from './component.js';

/** What the fault plane asks of a boundary gate (plain data: it may cross threads). */
export type GateOp =
  | { readonly op: 'add'; readonly spec: FaultSpec }
  | { readonly op: 'remove'; readonly name: string }
  | { readonly op: 'clear' }
  | { readonly op: 'stats' };

/** What a started component tells the main thread. */
export interface StartedComponent {
  readonly addresses: Readonly<Record<string, Address>>;
  /** Hops of the boundary gates it made while starting. */
  readonly gates: readonly string[];
}

interface Hosted {
  readonly running: RunningComponent;
  readonly meter: WireMeter;
  readonly gates: ReadonlyMap<string, BoundaryGate>;
}

/**
 * The components running in one thread (the main thread or a worker), by id. The same
 * code serves both: the main thread calls it directly, a worker through its MessagePort.
 */
export class ComponentHost {
  private readonly components = new Map<string, Hosted>();

  async start<I, A extends ComponentApi>(id: string, name: string, factory: ComponentFactory<I, A>, init: I, seed: number, journal: boolean): Promise<StartedComponent> {
    if (this.components.has(id)) throw new Error(`a component ${id} runs here already`);
    // Every component of one run asks the same, so the thread's setting holds for the services it builds.
    setJournal(journal);
    const meter = new WireMeter();
    const random = seededRandom(seed);
    const gates = new Map<string, BoundaryGate>();
    const env: ComponentEnv = {
      name,
      meter,
      random,
      gate: (hop) => {
        const gate = new BoundaryGate(hop, random.fork());
        gates.set(hop, gate);
        return gate;
      },
    };
    const running = await factory(init, env);
    this.components.set(id, { running, meter, gates });
    return { addresses: running.addresses ?? {}, gates: [...gates.keys()] };
  }

  async call(id: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const fn = this.hosted(id).running.api?.[method];
    if (typeof fn !== 'function') throw new Error(`component ${id} has no method ${method}`);
    // The API's parameter types are the caller's promise (ComponentHandle.call types them).
    return (fn as (...a: readonly unknown[]) => unknown)(...args);
  }

  wire(id: string): WireStats {
    return this.hosted(id).meter.stats();
  }

  gate(id: string, hop: string, op: GateOp): unknown {
    const hosted = this.components.get(id);
    const gate = hosted?.gates.get(hop);
    // A fault for a component that has stopped changes nothing.
    if (!gate) return op.op === 'stats' ? undefined : null;
    if (op.op === 'add') gate.addFault(op.spec);
    else if (op.op === 'remove') gate.removeFault(op.name);
    else if (op.op === 'clear') gate.clearFaults();
    else return gate.stats();
    return null;
  }

  async stop(id: string): Promise<void> {
    const hosted = this.components.get(id);
    if (!hosted) return;
    this.components.delete(id);
    for (const gate of hosted.gates.values()) gate.clearFaults();
    await hosted.running.stop();
  }

  /** Stop everything still running here (a thread that is closing). */
  async stopAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const id of [...this.components.keys()].reverse()) await this.stop(id).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }

  get size(): number {
    return this.components.size;
  }

  private hosted(id: string): Hosted {
    const hosted = this.components.get(id);
    if (!hosted) throw new Error(`no component ${id} runs here (stopped?)`);
    return hosted;
  }
}

/** An error as it crosses a thread: name, message, code. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

/** The error rebuilt on this side: same name, message and code. */
export class ThreadCallError extends Error {
  readonly code: string | undefined;
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    this.code = e.code;
    if (e.stack) this.stack = e.stack;
  }
}
