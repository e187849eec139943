import type { BoundaryGate } from '../faults/boundary.js';
import type { Address } from '../net/address.js';
import type { Unclone } from './clone.js';
import type { Random } from '../random.js';
import type { WireMeter, WireStats } from '../wire/meter.js';

/**
 * A part of a pattern's system under test — a service, the broker, the event store, a
 * processor, the projection, the orchestrator — as something that can start on any
 * thread. It is reached only through its transport at `addresses`, and through `api`:
 * calls from the pattern's main-thread code (snapshots, crashes, figures) whose
 * arguments are structured-clone safe and whose results are JSON data, because the
 * component may live in a worker thread.
 */
export type ComponentApi = { readonly [method: string]: (...args: never[]) => unknown };

/** What a component gets from the thread it runs on. */
export interface ComponentEnv {
  /** The component's name in its pattern (`payments`, `broker`…). */
  readonly name: string;
  /** Meter every server socket the component accepts (bytes at the server end of each hop). */
  readonly meter: WireMeter;
  /** The component's own seeded stream (fault draws, jitter); never Math.random. */
  readonly random: Random;
  /**
   * A fault gate for an in-process boundary named `hop` (a service called as a function):
   * the run's fault plane drives it as it drives a socket hop's proxy. Create gates while
   * starting; a gate made later is not attached.
   */
  gate(hop: string): BoundaryGate;
}

export interface RunningComponent<A extends ComponentApi = ComponentApi> {
  /** Where it listens, by name (`http`, `grpc`, `amqp`…). */
  readonly addresses?: Readonly<Record<string, Address>>;
  readonly api?: A;
  /** Close every socket, server, timer and consumer the component opened. */
  stop(): Promise<void>;
}

/** Starts a component. `init` must be structured-clone safe (it may be posted to a worker). */
export type ComponentFactory<I, A extends ComponentApi> = (init: I, env: ComponentEnv) => Promise<RunningComponent<A>>;

/** Where a worker finds a component's factory: a module URL and its export's name. */
export interface ComponentModule<I, A extends ComponentApi> {
  readonly url: URL;
  readonly exportName: string;
  readonly factory: ComponentFactory<I, A>;
}

/** A component as the pattern's main-thread code sees it, wherever it runs. */
export interface ComponentHandle<A extends ComponentApi> {
  readonly name: string;
  /** The thread it runs on (`main`, `system`, or its own name). */
  readonly thread: string;
  readonly addresses: Readonly<Record<string, Address>>;
  /** Resolves with the method's result (a `byClone` result unwrapped: see clone.ts). */
  call<K extends keyof A & string>(method: K, ...args: Parameters<A[K]>): Promise<Unclone<Awaited<ReturnType<A[K]>>>>;
  /** Bytes and messages at the component's server sockets, cumulative since it started. */
  wire(): Promise<WireStats>;
}

/** The address a component must have published under `name`. */
export function addressOf(handle: { readonly name: string; readonly addresses: Readonly<Record<string, Address>> }, name: string): Address {
  const address = handle.addresses[name];
  if (!address) throw new Error(`${handle.name} has no ${name} address (it has: ${Object.keys(handle.addresses).join(', ') || 'none'})`);
  return address;
}
