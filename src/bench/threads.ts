import type { EventLoopUtilization } from 'node:perf_hooks';
import { threadCpuMs } from '../placement/cpu.js';
import { isProcessThread } from '../placement/process-thread.js';
import type { ThreadUse } from '../placement/system.js';
import type { SystemThread } from '../placement/thread.js';

/** One thread's cost over the measurement window. */
export interface ThreadCost {
  /** `main` (the load generator's), `system` (the shared worker) or the component it holds. */
  readonly name: string;
  /** What runs on it: the load generator, the system under test, or both (same-thread). */
  readonly role: 'generator' | 'system' | 'generator+system';
  /** The parts of the system on it. */
  readonly components: readonly string[];
  /** Share of the window its event loop was busy, 0..1. */
  readonly eventLoopUtilization: number;
  /** CPU time it ran in the window, ms; null where the platform does not tell one thread's CPU (Linux only). A child process (`--topology processes`): its own process.cpuUsage(), every thread of it. */
  readonly cpuMs: number | null;
  /** A child process (`--topology processes`): its process id. Absent for a thread. */
  readonly pid?: number;
}

/** Saturated: from this event-loop utilisation on, a row measures the thread more than the pattern. */
export const SATURATED = 0.95;

interface Reading {
  readonly elu: EventLoopUtilization;
  readonly cpuMs: number | null;
}

/** A child process that died before it answered: no figures. */
const GONE: Reading = { elu: { idle: 0, active: 0, utilization: 0 }, cpuMs: null };

/**
 * Reads every thread of a run — the load generator's and each of the system's — at the
 * moment the measurement window opens and when it closes (synchronously: both readings
 * cost microseconds), and reports each thread's busy share and CPU time in between. A
 * child process reads itself: the probe asks it at those moments, and its answer (taken
 * when the child handles the request, within its loop's current turn) is awaited by results().
 */
export class ThreadProbe {
  private readonly threads: readonly { readonly thread: SystemThread; readonly components: readonly string[] }[];
  private opened: (Reading | Promise<Reading>)[] | undefined;
  private closed: (Reading | Promise<Reading>)[] | undefined;

  constructor(main: SystemThread, uses: readonly ThreadUse[]) {
    const onMain = uses.find((u) => u.thread.isMain);
    this.threads = [{ thread: main, components: onMain?.components ?? [] }, ...uses.filter((u) => !u.thread.isMain)];
  }

  open(): void {
    this.opened = this.read();
  }

  close(): void {
    this.closed = this.read();
  }

  /** Each thread over the window; empty if the window never opened. */
  async results(): Promise<ThreadCost[]> {
    if (!this.opened) return [];
    const opened = await Promise.all(this.opened);
    const closed = await Promise.all(this.closed ?? this.read());
    return this.threads.map(({ thread, components }, i) => {
      const a = opened[i] as Reading;
      const b = closed[i] as Reading;
      return {
        name: thread.name,
        role: thread.isMain ? (components.length > 0 ? 'generator+system' : 'generator') : 'system',
        components,
        eventLoopUtilization: round(utilisationBetween(a.elu, b.elu)),
        cpuMs: a.cpuMs !== null && b.cpuMs !== null ? round(b.cpuMs - a.cpuMs) : null,
        ...(isProcessThread(thread) ? { pid: thread.pid } : {}),
      };
    });
  }

  private read(): (Reading | Promise<Reading>)[] {
    return this.threads.map(({ thread }) => (isProcessThread(thread) ? thread.usage().catch(() => GONE) : { elu: thread.eventLoopUtilization(), cpuMs: threadCpuMs(thread.tid) }));
  }
}

/** Busy share between two cumulative readings (0 for an empty interval). */
function utilisationBetween(a: EventLoopUtilization, b: EventLoopUtilization): number {
  const active = b.active - a.active;
  const idle = b.idle - a.idle;
  return active + idle > 0 ? active / (active + idle) : 0;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The system thread with the busiest event loop (the main thread counts only when it holds the system). */
export function busiestSystemThread(costs: readonly ThreadCost[]): ThreadCost | null {
  let best: ThreadCost | null = null;
  for (const c of costs) if (c.role !== 'generator' && (!best || c.eventLoopUtilization > best.eventLoopUtilization)) best = c;
  return best;
}
