import type { TracingOp } from './tracing.js';
import type { GateOp, SerializedError, StartedComponent } from './host.js';

/** What the main thread asks a system worker. Every request has an id; every answer names it. */
export type MainToWorker =
  | {
      readonly type: 'start';
      readonly id: number;
      readonly component: string;
      readonly name: string;
      /** Module holding the factory (a file: URL string) and its export's name. */
      readonly moduleUrl: string;
      readonly exportName: string;
      readonly init: unknown;
      readonly seed: number;
      /** Whether its services record when each effect happened (a capacity run's do not). */
      readonly journal: boolean;
    }
  | { readonly type: 'call'; readonly id: number; readonly component: string; readonly method: string; readonly args: readonly unknown[] }
  | { readonly type: 'wire'; readonly id: number; readonly component: string }
  | { readonly type: 'gate'; readonly id: number; readonly component: string; readonly hop: string; readonly op: GateOp }
  | { readonly type: 'stop'; readonly id: number; readonly component: string }
  /** Span recording in this thread: `start`, `take` what was recorded, or `stop` (and take the rest). */
  | { readonly type: 'tracing'; readonly id: number; readonly op: TracingOp }
  /** Stop what still runs, then close the port: the worker exits. */
  | { readonly type: 'exit'; readonly id: number };

export type WorkerToMain =
  | { readonly type: 'ready'; readonly tid: number | null }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly value?: unknown;
      /** A call's result, as JSON text (see answer.ts); one marked byClone comes as `value`. */
      readonly json?: string;
      readonly started?: StartedComponent;
      readonly error?: SerializedError;
    };
