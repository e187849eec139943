import type { Random } from '../../random.js';

/**
 * Which pipe of a proxied connection a fault sits on: `upstream` carries the client's bytes
 * to the server, `downstream` the server's bytes back to the client (toxiproxy's streams).
 */
export type Direction = 'upstream' | 'downstream';

export const DIRECTIONS: readonly Direction[] = ['upstream', 'downstream'];

/** What every fault spec may say besides its own parameters. */
export interface FaultCommon {
  /** Name to remove the fault by; default `<type>_<direction>` (`down` for `down`). */
  readonly name?: string;
  /** Default `downstream`. */
  readonly direction?: Direction;
  /**
   * Toxicity: the chance, drawn once per connection from the hop's seeded stream, that the
   * fault applies to that connection. 0..1, default 1.
   */
  readonly probability?: number;
}

/**
 * What a stage sees of its pipe. `forward` and `end` hand bytes and the half-close on to
 * the next stage (or the destination socket); `hold`/`release` tell the pipe how many bytes
 * the stage keeps, so the pipe can stop reading from the source when too much piles up.
 */
export interface StageContext {
  readonly direction: Direction;
  /** This fault's stream for this connection (jitter, slice sizes): forked, never shared. */
  readonly random: Random;
  forward(chunk: Buffer): void;
  /** The source half-closed; call once, after every byte received before it was forwarded. */
  end(): void;
  hold(bytes: number): void;
  release(bytes: number): void;
  /** Close both sides of the connection (FIN, as when a process exits). */
  close(): void;
  /** Reset both sides of the connection (RST: the peers see ECONNRESET). */
  reset(): void;
}

/**
 * A fault on one pipe of one connection (toxiproxy's ToxicStub + Pipe). The pipe calls
 * `write` and `end` in stream order; the stage passes them on through its context.
 */
export interface Stage {
  write(chunk: Buffer): void;
  end(): void;
  /**
   * The fault was removed while the connection is open: hand on everything held, in
   * order, now, and cancel timers. Neither `write` nor `end` is called afterwards.
   */
  flush(): void;
  /** The connection is gone: cancel timers; what is held is dropped with the sockets. */
  dispose(): void;
}

/** A configured fault: data plus the factory of its per-connection stages. */
export interface Toxic {
  readonly type: string;
  readonly name: string;
  readonly direction: Direction;
  readonly probability: number;
  /** The fault's parameters as given (for the report). */
  readonly params: Readonly<Record<string, number>>;
  stage(ctx: StageContext): Stage;
}

/**
 * A fault that also acts on connections that do not exist yet: a new connection that
 * draws it is refused (accepted and reset before the server is dialled). `down` is one.
 */
export interface RefusingToxic extends Toxic {
  readonly refusesNewConnections: true;
}

export function isRefusing(t: Toxic): t is RefusingToxic {
  return (t as Partial<RefusingToxic>).refusesNewConnections === true;
}

/** A stage that only passes data on: the base the time-free faults build on. */
export function passThrough(ctx: StageContext, onDispose: () => void = () => {}): Stage {
  return {
    write: (chunk) => ctx.forward(chunk),
    end: () => ctx.end(),
    flush: onDispose,
    dispose: onDispose,
  };
}
