import { InvalidOptionError } from '../errors.js';
import type { Random } from '../random.js';
import { createToxic, type FaultSpec, type FaultType } from './toxics/registry.js';
import type { Direction, Toxic } from './toxics/types.js';

/** What one boundary gate has seen since it was built. Each call is counted once per field. */
export interface BoundaryStats {
  readonly hop: string;
  /** Calls made through the gate, refused ones included. */
  readonly calls: number;
  /** Calls at least one fault acted on (refused, reset, delayed or held). */
  readonly faulted: number;
  /** Calls refused by `down` without running (ECONNREFUSED). */
  readonly refused: number;
  /** Calls rejected mid-call (ECONNRESET): by `down` being added, `reset_peer`, or `timeout`'s close. */
  readonly resets: number;
  /** Calls delayed by `latency`, either way. */
  readonly delayed: number;
  /** Calls held by `timeout` (a black hole), either way. */
  readonly held: number;
  /** Names of the faults active on the gate now, inert ones included, in the order added. */
  readonly faults: readonly string[];
  /** Fault types added that mean nothing to a function call (`bandwidth`, `slicer`): let through untouched. */
  readonly unsupported: readonly FaultType[];
}

/** Codes a gate rejects with: what a socket client sees for the same fault. */
export type BoundaryErrorCode = 'ECONNREFUSED' | 'ECONNRESET';

/**
 * A call failed at a boundary as if its connection had: `ECONNREFUSED` (the service is
 * down; the call did not run) or `ECONNRESET` (the connection was lost mid-call; the call
 * may have run). It carries the same `code` a socket error would, so retry and failure
 * accounting treat both patterns alike.
 */
export class BoundaryFaultError extends Error {
  constructor(
    readonly code: BoundaryErrorCode,
    readonly hop: string,
  ) {
    super(code === 'ECONNREFUSED' ? `${code}: ${hop} is down (call refused)` : `${code}: ${hop} connection reset (mid-call)`);
    this.name = 'BoundaryFaultError';
  }
}

/**
 * Drives one gate's faults from wherever the FaultNetwork lives. Every argument is plain
 * data (structured-clone safe), so a worker thread can forward these over a MessagePort.
 */
export interface BoundaryController {
  /** Add a fault (already validated by the network; its name is free on this hop). */
  add(spec: FaultSpec): void;
  /** Remove the fault `name`; a name that is not there is ignored. */
  remove(name: string): void;
  /** Remove every fault. */
  clear(): void;
  stats(): Promise<BoundaryStats>;
}

/** Fault types that shape a byte stream: a function call has none, so they are recorded and inert. */
const UNSUPPORTED: ReadonlySet<FaultType> = new Set<FaultType>(['bandwidth', 'slicer']);

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

type Mark = 'delayed' | 'held';

/** One call's wait inside one fault (latency's timer, or timeout until removed). */
interface Hold {
  readonly flight: Flight;
  release(): void;
}

interface ActiveFault {
  readonly toxic: Toxic;
  /** Drawn once when added: the gate is one connection, and the fault took it or not. */
  readonly applies: boolean;
  /** This fault's own stream (jitter), so one fault's draws never shift another's. */
  readonly random: Random;
  /** Calls this fault holds now, released when it is removed. */
  readonly holds: Set<Hold>;
  /** reset_peer's pending reset, or timeout's close of the connection. */
  timer: NodeJS.Timeout | undefined;
}

/** A call between its start and the caller seeing its result. */
class Flight {
  done = false;
  readonly holds = new Set<Hold>();
  readonly marks = new Set<Mark | 'faulted'>();

  constructor(private readonly reject: (err: unknown) => void) {}

  /** Reject the caller now, and release the call's waits (it goes no further). False if already settled. */
  fail(err: Error): boolean {
    if (this.done) return false;
    this.done = true;
    this.reject(err);
    for (const hold of [...this.holds]) hold.release();
    return true;
  }

  /** The call got through: true if the caller is still waiting for it. */
  finish(): boolean {
    if (this.done) return false;
    this.done = true;
    return true;
  }
}

/**
 * The faults of one in-process boundary (a service called as a function, no socket),
 * giving a call the effect the same FaultSpec has on a socket hop's request/response.
 * The gate is one connection: a fault's `probability` is drawn once, when it is added.
 *
 * - `latency`: `downstream` delays the result (or rejection) by latencyMs ± jitterMs from
 *   when `fn` settles; `upstream` delays `fn`'s start. Removed: held calls go on at once.
 * - `down`: new calls reject with ECONNREFUSED without running `fn`; calls in flight when
 *   it is added reject with ECONNRESET (a started `fn` runs on: its effect may happen).
 * - `timeout`: a black hole on its pipe. `upstream` holds `fn`'s start, `downstream` holds
 *   the result, until the fault is removed. timeoutMs > 0: that long after the fault took
 *   the connection (when added, or the first call after a close) every call in flight
 *   rejects with ECONNRESET, as the socket would be closed.
 * - `reset_peer`: timeoutMs (default 0) after it is added, every call in flight rejects
 *   with ECONNRESET; then it is spent (a reset connection is replaced by a fresh one).
 * - `bandwidth`, `slicer`: recorded in `stats().unsupported`; calls pass untouched.
 *
 * Seeded: each fault added gets a fork of `random`, in the order added, and draws first
 * whether it applies, then one jitter per call it delays. Same seed + same faults + same
 * sequence of calls → the same calls are faulted the same way.
 *
 * Lives in the thread that makes the calls; see BoundaryController to drive it from another.
 */
export class BoundaryGate {
  private readonly active: ActiveFault[] = [];
  private readonly flights = new Set<Flight>();
  private readonly unsupported = new Set<FaultType>();
  private readonly counts = { calls: 0, faulted: 0, refused: 0, resets: 0, delayed: 0, held: 0 };

  constructor(
    readonly hop: string,
    private readonly random: Random,
  ) {}

  /**
   * No fault is on the gate. A caller whose calls settle within the microtasks of their
   * start (an in-memory service) may skip `call` then: no fault can be added before such a
   * call is over, so the result is the same, without the bookkeeping.
   */
  get quiet(): boolean {
    return this.active.length === 0 && !this.stale;
  }

  /**
   * A reset found no call in flight: the connection is dead, and the next call on it fails
   * with ECONNRESET without reaching the service — as a request written to a keep-alive
   * connection that the peer has just reset does. (An in-memory call is never in flight
   * when a timer fires, so without this a reset could never touch one.)
   */
  private stale = false;

  /**
   * `call` for a service whose calls settle within the microtasks of their start (an
   * in-memory service): with no fault on the gate it runs `fn` straight away. The result
   * is the same — no fault can be added before such a call is over — at no cost.
   */
  callInMemory<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.quiet) return this.call(fn);
    this.counts.calls++;
    return fn();
  }

  /** Run one call through the gate's active faults; resolves or rejects as the caller would see it. */
  call<T>(fn: () => Promise<T>): Promise<T> {
    this.counts.calls++;
    this.reconnect();
    if (this.stale) {
      this.stale = false; // the caller's next call opens a fresh connection
      this.counts.resets++;
      this.counts.faulted++;
      return Promise.reject(new BoundaryFaultError('ECONNRESET', this.hop));
    }
    if (this.active.some((f) => f.applies && f.toxic.type === 'down')) {
      this.counts.refused++;
      this.counts.faulted++;
      return Promise.reject(new BoundaryFaultError('ECONNREFUSED', this.hop));
    }
    return new Promise<T>((resolve, reject) => {
      const flight = new Flight(reject);
      this.flights.add(flight);
      void this.run(flight, fn).then((outcome) => {
        this.flights.delete(flight);
        if (!outcome || !flight.finish()) return; // reset meanwhile: the caller already has its error
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      });
    });
  }

  /**
   * Add a fault. Validates like the socket hops (InvalidOptionError naming the field; the
   * name defaults to `<type>_<direction>`, `down` for down) and rejects a name already used.
   */
  addFault(spec: FaultSpec): void {
    const toxic = createToxic(spec);
    if (this.active.some((f) => f.toxic.name === toxic.name)) {
      throw new InvalidOptionError('fault name', toxic.name, `a name not already used on hop ${this.hop}`);
    }
    const random = this.random.fork();
    const supported = !UNSUPPORTED.has(toxic.type as FaultType);
    if (!supported) this.unsupported.add(toxic.type as FaultType);
    const fault: ActiveFault = { toxic, random, applies: supported && random.chance(toxic.probability), holds: new Set(), timer: undefined };
    this.active.push(fault);
    if (fault.applies) this.takeHold(fault);
  }

  /** Remove a fault by name: calls it holds go on at once, its timer is cancelled. False when there is none. */
  removeFault(name: string): boolean {
    const i = this.active.findIndex((f) => f.toxic.name === name);
    const fault = this.active[i];
    if (!fault) return false;
    this.active.splice(i, 1);
    clearTimeout(fault.timer);
    for (const hold of [...fault.holds]) hold.release();
    return true;
  }

  /** Remove every fault: held calls go on, no timer of the gate is left. */
  clearFaults(): void {
    for (const name of this.active.map((f) => f.toxic.name)) this.removeFault(name);
    this.stale = false;
  }

  stats(): BoundaryStats {
    return { hop: this.hop, ...this.counts, faults: this.active.map((f) => f.toxic.name), unsupported: [...this.unsupported] };
  }

  /** What a fault does to the connection the moment it takes it. */
  private takeHold(fault: ActiveFault): void {
    const { type, params } = fault.toxic;
    if (type === 'down') this.resetInFlight();
    else if (type === 'reset_peer') {
      fault.timer = setTimeout(() => {
        fault.timer = undefined; // spent: the reset connection's replacement is a fresh one
        if (this.flights.size === 0) this.stale = true;
        else this.resetInFlight();
      }, params.timeoutMs ?? 0);
    }
    else if (type === 'timeout') this.armClose(fault);
  }

  /** timeout's close of the connection, timeoutMs after it took it (0: never). */
  private armClose(fault: ActiveFault): void {
    const ms = fault.toxic.params.timeoutMs ?? 0;
    if (ms <= 0) return;
    fault.timer = setTimeout(() => {
      fault.timer = undefined;
      this.resetInFlight();
    }, ms);
  }

  /** A call after timeout closed the connection opens a new one, which the fault takes again. */
  private reconnect(): void {
    for (const f of this.active) if (f.applies && f.toxic.type === 'timeout' && !f.timer) this.armClose(f);
  }

  private resetInFlight(): void {
    for (const flight of [...this.flights]) {
      if (!flight.fail(new BoundaryFaultError('ECONNRESET', this.hop))) continue;
      this.flights.delete(flight);
      this.counts.resets++;
      this.mark(flight, 'faulted');
    }
  }

  private async run<T>(flight: Flight, fn: () => Promise<T>): Promise<Outcome<T> | undefined> {
    await this.pass(flight, 'upstream');
    if (flight.done) return undefined; // lost before it reached the service: fn never runs
    const outcome = await attempt(fn);
    await this.pass(flight, 'downstream');
    return outcome;
  }

  /** Through the faults that hold calls on one pipe, in the order added. */
  private async pass(flight: Flight, direction: Direction): Promise<void> {
    const holding = this.active.filter((f) => f.applies && f.toxic.direction === direction && isHolding(f.toxic));
    for (const fault of holding) {
      if (flight.done) return;
      if (!this.active.includes(fault)) continue; // removed while an earlier fault held the call
      await this.hold(fault, flight);
    }
  }

  /** Wait in one fault: latency until its drawn delay is up, timeout until removed. Either ends early on removal or reset. */
  private hold(fault: ActiveFault, flight: Flight): Promise<void> {
    const latency = fault.toxic.type === 'latency';
    this.mark(flight, latency ? 'delayed' : 'held');
    return new Promise<void>((resolve) => {
      const hold: Hold = {
        flight,
        release: () => {
          clearTimeout(timer);
          fault.holds.delete(hold);
          flight.holds.delete(hold);
          resolve();
        },
      };
      const timer = latency ? setTimeout(hold.release, delayOf(fault)) : undefined;
      fault.holds.add(hold);
      flight.holds.add(hold);
    });
  }

  private mark(flight: Flight, what: Mark | 'faulted'): void {
    if (what !== 'faulted') this.mark(flight, 'faulted');
    if (flight.marks.has(what)) return;
    flight.marks.add(what);
    this.counts[what]++;
  }
}

/** A controller for a gate in the same thread. */
export function localController(gate: BoundaryGate): BoundaryController {
  return {
    add: (spec) => gate.addFault(spec),
    remove: (name) => {
      gate.removeFault(name);
    },
    clear: () => gate.clearFaults(),
    stats: () => Promise.resolve(gate.stats()),
  };
}

function isHolding(toxic: Toxic): boolean {
  return toxic.type === 'latency' || toxic.type === 'timeout';
}

/** latencyMs ± jitterMs, ms: the latency toxic's draw, so a call is delayed as a chunk would be. */
function delayOf(fault: ActiveFault): number {
  const latencyMs = fault.toxic.params.latencyMs ?? 0;
  const jitterMs = fault.toxic.params.jitterMs ?? 0;
  return Math.max(0, jitterMs > 0 ? latencyMs + (fault.random.next() * 2 - 1) * jitterMs : latencyMs);
}

async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
