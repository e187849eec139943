import type { EventLoopUtilization } from 'node:perf_hooks';
import type { MainToWorker, WorkerToMain } from './protocol.js';

/**
 * What the parent asks a child process holding components: the worker protocol
 * (protocol.ts), plus `usage` — a worker's event loop and CPU time can be read from the
 * main thread, a process's only from inside it.
 */
export type ParentToProcess = MainToWorker | { readonly type: 'usage'; readonly id: number };

/** A child's reading of itself, taken when it handles the request. */
export interface ProcessUsage {
  /** Cumulative: `performance.eventLoopUtilization()` in the child. */
  readonly elu: EventLoopUtilization;
  /** `process.cpuUsage()` in the child, user + system, ms: every thread of the process. */
  readonly cpuMs: number;
}

export type ProcessToParent = Exclude<WorkerToMain, { type: 'ready' }> | { readonly type: 'ready'; readonly pid: number };
