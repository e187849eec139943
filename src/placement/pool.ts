import { MainThread, WorkerThread, type SystemThread } from './thread.js';
import type { TakenSpans } from '../tracing/recorder.js';
import { ProcessThread } from './process-thread.js';
import type { TracingOp } from './tracing.js';
import { DEFAULT_TOPOLOGY, MAIN_THREAD, type Topology } from './types.js';

export interface ThreadPoolOptions {
  /** `threads` (default): workers of this process; `processes`: a child process per name. */
  readonly topology?: Topology;
}

/**
 * The threads a benchmark's systems run on, by name, kept from run to run: a thread that
 * held REST's payments service holds gRPC's next, its JIT already warm and its start-up
 * already paid — the same for every pattern. Under the `processes` topology each named
 * thread is a child process instead of a worker, kept the same way. `close()` ends every
 * worker and child.
 */
export class ThreadPool {
  readonly main: SystemThread = new MainThread();
  readonly topology: Topology;
  private readonly workers = new Map<string, Promise<WorkerThread | ProcessThread>>();
  private closed = false;
  /** Span recording is on: every thread records, threads spawned meanwhile too. */
  private recording = false;
  /**
   * Whether the services of the systems started from now on record when each effect happened
   * (the journeys that explain a broken invariant). The runner turns it off for capacity runs,
   * whose violations nothing explains: there it would only cost throughput.
   */
  journal = true;

  constructor(options: ThreadPoolOptions = {}) {
    this.topology = options.topology ?? DEFAULT_TOPOLOGY;
  }

  /** The thread named `name`: the main thread, or a worker or child process (spawned on first use, respawned if it died). */
  async thread(name: string): Promise<SystemThread> {
    if (name === MAIN_THREAD) return this.main;
    if (this.closed) throw new Error(`the thread pool is closed; cannot start thread ${name}`);
    let pending = this.workers.get(name);
    const current = pending ? await pending.catch(() => undefined) : undefined;
    if (!current || !current.alive) {
      const spawned: Promise<WorkerThread | ProcessThread> = this.topology === 'processes' ? ProcessThread.spawn(name) : WorkerThread.spawn(name);
      pending = spawned.then(async (w) => {
        if (this.recording) await w.tracing('start');
        return w;
      });
      this.workers.set(name, pending);
      pending.catch(() => this.workers.delete(name));
    }
    return pending as Promise<WorkerThread | ProcessThread>;
  }

  /**
   * Span recording on every thread: `start` it, `take` what each recorded (merged), or
   * `stop` it and take the rest. Threads spawned while it is on start recording at once.
   */
  async tracing(op: TracingOp): Promise<TakenSpans> {
    if (op === 'start') this.recording = true;
    if (op === 'stop') this.recording = false;
    const workers = (await Promise.allSettled(this.workers.values())).flatMap((w) => (w.status === 'fulfilled' && w.value.alive ? [w.value] : []));
    const taken = await Promise.all([this.main, ...workers].map((t) => t.tracing(op)));
    return { spans: taken.flatMap((t) => t.spans), dropped: taken.reduce((n, t) => n + t.dropped, 0) };
  }

  /** The child processes alive now (topology `processes`), by name: their pids. */
  async processes(): Promise<{ readonly name: string; readonly pid: number }[]> {
    const threads = await Promise.allSettled(this.workers.values());
    return threads.flatMap((t) => (t.status === 'fulfilled' && t.value instanceof ProcessThread && t.value.alive ? [{ name: t.value.name, pid: t.value.pid }] : []));
  }

  /** End every worker and child (each stops what still runs in it first). Rejects if one had to be terminated. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = await Promise.allSettled(this.workers.values());
    this.workers.clear();
    const results = await Promise.allSettled(workers.map((w) => (w.status === 'fulfilled' ? w.value.close() : undefined)));
    await this.main.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
