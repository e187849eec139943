import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ThreadCallError } from './host.js';
import type { ParentToProcess, ProcessToParent, ProcessUsage } from './process-protocol.js';
import { RequestedHost, type SystemThread } from './thread.js';

/** How long a child asked to exit may take before it is killed. ms (as a worker's EXIT_GRACE_MS). */
const EXIT_GRACE_MS = 3000;

/**
 * The young generation of a child, as thread.ts gives a worker (PB_YOUNG_GENERATION_MB,
 * default 64 MB), so a service pays the same scavenges in a process as in a thread. V8's
 * young generation is three semi-spaces (two, and the new large-object space).
 */
function semiSpaceFlags(): string[] {
  const mb = Number(process.env.PB_YOUNG_GENERATION_MB ?? 64);
  return Number.isFinite(mb) && mb > 0 ? [`--max-semi-space-size=${Math.max(1, Math.round(mb / 3))}`] : [];
}

/** Children still alive, killed if this process exits without closing them (process.exit, an uncaught error). */
const live = new Set<ChildProcess>();
let exitHook = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

interface Pending {
  resolve(message: Extract<ProcessToParent, { type: 'reply' }>): void;
  reject(err: Error): void;
}

/**
 * A child process holding components (`--topology processes`), driven like a worker thread
 * over its IPC channel: the same requests (protocol.ts), plus `usage`, the child's own
 * reading of its event loop and CPU time. Its components are reached at their addresses
 * on loopback, so the run's fault proxies (in this process) sit between the processes.
 */
export class ProcessThread extends RequestedHost implements SystemThread {
  readonly isMain = false;
  /** A process has no thread of this process: its CPU time comes from `usage()`. */
  readonly tid = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private exitError: Error | undefined;
  /** The latest `usage()` reading, for the synchronous eventLoopUtilization(). */
  private lastElu: EventLoopUtilization = { idle: 0, active: 0, utilization: 0 };

  protected get label(): string {
    return `system process ${this.name}`;
  }

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    /** The child's process id. */
    readonly pid: number,
  ) {
    super();
    child.on('message', (m: ProcessToParent) => {
      if (m.type !== 'reply') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    child.on('error', (err) => (this.exitError = err));
    child.on('exit', (code, signal) => {
      this.exited = true;
      const err = this.exitError ?? new Error(`system process ${name} (pid ${pid}) exited with ${signal ?? `code ${code}`}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Fork a child and wait until it can take components. */
  static async spawn(name: string): Promise<ProcessThread> {
    const child = forkChild(name);
    track(child);
    let onMessage: ((m: ProcessToParent) => void) | undefined;
    let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
    let onError: ((err: Error) => void) | undefined;
    try {
      const ready = await new Promise<Extract<ProcessToParent, { type: 'ready' }>>((resolve, reject) => {
        onMessage = (m) => m.type === 'ready' && resolve(m);
        onExit = (code, signal) => reject(new Error(`system process ${name} exited with ${signal ?? `code ${code}`} before it was ready`));
        onError = reject;
        child.on('message', onMessage).once('exit', onExit).once('error', onError);
      });
      return new ProcessThread(name, child, ready.pid);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      if (onMessage) child.off('message', onMessage);
      if (onExit) child.off('exit', onExit);
      if (onError) child.off('error', onError);
    }
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * The child's loop as of the latest `usage()` reading (a process cannot be read from
   * outside synchronously; the thread probe asks `usage()`).
   */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    if (!since) return this.lastElu;
    const idle = this.lastElu.idle - since.idle;
    const active = this.lastElu.active - since.active;
    return { idle, active, utilization: idle + active > 0 ? active / (idle + active) : 0 };
  }

  /** The child's own reading of its event loop and CPU time (cumulative), taken when it handles the request. */
  async usage(): Promise<ProcessUsage> {
    const value = (await this.request({ type: 'usage', id: 0 })).value as ProcessUsage;
    this.lastElu = value.elu;
    return value;
  }

  /** Ask the child to stop its components and exit; kill it (and reject) if it has not within EXIT_GRACE_MS. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exit = once(this.child, 'exit');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
    this.request({ type: 'exit', id: 0 }).catch(() => undefined);
    const outcome = await Promise.race([exit.then(() => 'exited' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.child.kill('SIGKILL');
      await exit;
      throw new Error(`system process ${this.name} (pid ${this.pid}) did not exit within ${EXIT_GRACE_MS} ms: a component left a handle open`);
    }
  }

  protected request(message: ParentToProcess): Promise<Extract<ProcessToParent, { type: 'reply' }>> {
    if (this.exited || !this.child.connected) return Promise.reject(this.exitError ?? new Error(`system process ${this.name} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (reply) => (reply.error ? reject(new ThreadCallError(reply.error)) : resolve(reply)),
        reject,
      });
      this.child.send({ ...message, id }, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(err);
      });
    });
  }
}

/** A system thread that is a child process (has `usage()` and a pid). */
export function isProcessThread(thread: SystemThread): thread is ProcessThread {
  return thread instanceof ProcessThread;
}

/**
 * Built code forks process-entry.js; from the TypeScript sources (vitest) the child first
 * registers the module hooks that compile .ts on load (ts-register.mjs, as a worker does).
 * The child's stdout goes to this process's stderr: only the CLI writes to stdout.
 */
function forkChild(name: string): ChildProcess {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const entry = fileURLToPath(new URL(ts ? './process-entry.ts' : './process-entry.js', here));
  const execArgv = [...semiSpaceFlags(), ...(ts ? ['--import', new URL('./ts-register.mjs', here).href] : [])];
  return fork(entry, [name], { execArgv, serialization: 'advanced', stdio: ['ignore', 2, 'inherit', 'ipc'] });
}
