import { once } from 'node:events';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { WireStats } from '../wire/meter.js';
import { unclone } from './clone.js';
import type { ComponentApi, ComponentModule } from './component.js';
import { currentThreadId } from './cpu.js';
import { ComponentHost, ThreadCallError, type GateOp, type StartedComponent } from './host.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';
import { applyTracing, type TracingOp } from './tracing.js';
import type { TakenSpans } from '../tracing/recorder.js';
import { MAIN_THREAD } from './types.js';

/** How long a worker asked to exit may take before it is terminated. ms. */
const EXIT_GRACE_MS = 3000;

/**
 * A system thread allocates an object or more per message; a young generation of 64 MB
 * (V8's default is a few MB) makes its scavenges rarer. The same for every thread and every
 * pattern. To see what it changes, compare `npm run bench:placement` with
 * `PB_YOUNG_GENERATION_MB=0` (V8's default) in front of it.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: youngGenerationMb() };

function youngGenerationMb(): number | undefined {
  const mb = Number(process.env.PB_YOUNG_GENERATION_MB ?? 64);
  return Number.isFinite(mb) && mb > 0 ? mb : undefined;
}

/** A thread the system under test runs on, as the main thread drives it. */
export interface SystemThread {
  /** `main`, `system`, or the component it was made for. */
  readonly name: string;
  readonly isMain: boolean;
  /** OS thread id (Linux), for its CPU time; null where the platform does not say. */
  readonly tid: number | null;
  /** Cumulative event-loop utilisation of the thread (pass an earlier reading to get the delta). */
  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization;
  /** `journal`: whether the component's services record when each effect happened (see `setJournal`). */
  start<I, A extends ComponentApi>(component: string, name: string, module: ComponentModule<I, A>, init: I, seed: number, journal: boolean): Promise<StartedComponent>;
  call(component: string, method: string, args: readonly unknown[]): Promise<unknown>;
  wire(component: string): Promise<WireStats>;
  gate(component: string, hop: string, op: GateOp): Promise<unknown>;
  stop(component: string): Promise<void>;
  /** Span recording in the thread: start it, take what it recorded, or stop it (taking the rest). */
  tracing(op: TracingOp): Promise<TakenSpans>;
  /** Stop what still runs in it and end the thread (the main thread only stops its components). */
  close(): Promise<void>;
}

/** The load generator's own thread: components run in this event loop and are called directly. */
export class MainThread implements SystemThread {
  readonly name = MAIN_THREAD;
  readonly isMain = true;
  readonly tid = currentThreadId();
  private readonly host = new ComponentHost();

  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return since ? performance.eventLoopUtilization(since) : performance.eventLoopUtilization();
  }

  start<I, A extends ComponentApi>(component: string, name: string, module: ComponentModule<I, A>, init: I, seed: number, journal: boolean): Promise<StartedComponent> {
    return this.host.start(component, name, module.factory, init, seed, journal);
  }

  async call(component: string, method: string, args: readonly unknown[]): Promise<unknown> {
    return unclone(await this.host.call(component, method, args));
  }

  async wire(component: string): Promise<WireStats> {
    return this.host.wire(component);
  }

  async gate(component: string, hop: string, op: GateOp): Promise<unknown> {
    return this.host.gate(component, hop, op);
  }

  stop(component: string): Promise<void> {
    return this.host.stop(component);
  }

  tracing(op: TracingOp): Promise<TakenSpans> {
    return applyTracing(op);
  }

  close(): Promise<void> {
    return this.host.stopAll();
  }
}

interface Pending {
  resolve(message: Extract<WorkerToMain, { type: 'reply' }>): void;
  reject(err: Error): void;
}

/**
 * A thread (or process) holding components that this one drives by requests (protocol.ts):
 * what a worker thread and a child process answer alike. Subclasses send the requests.
 */
export abstract class RequestedHost {
  protected exited = false;

  /** What it is, for errors: `system thread payments`, `system process payments`. */
  protected abstract readonly label: string;

  protected abstract request(message: MainToWorker): Promise<Extract<WorkerToMain, { type: 'reply' }>>;

  async start<I, A extends ComponentApi>(component: string, name: string, module: ComponentModule<I, A>, init: I, seed: number, journal: boolean): Promise<StartedComponent> {
    const reply = await this.request({ type: 'start', id: 0, component, name, moduleUrl: module.url.href, exportName: module.exportName, init, seed, journal });
    if (!reply.started) throw new Error(`${this.label} did not start ${component}`);
    return reply.started;
  }

  async call(component: string, method: string, args: readonly unknown[]): Promise<unknown> {
    const reply = await this.request({ type: 'call', id: 0, component, method, args });
    // JSON text, or a structured clone (a result marked byClone: see answer.ts).
    return reply.json === undefined ? reply.value : (JSON.parse(reply.json) as unknown);
  }

  async wire(component: string): Promise<WireStats> {
    return (await this.request({ type: 'wire', id: 0, component })).value as WireStats;
  }

  async gate(component: string, hop: string, op: GateOp): Promise<unknown> {
    return (await this.request({ type: 'gate', id: 0, component, hop, op })).value;
  }

  async stop(component: string): Promise<void> {
    if (this.exited) return;
    await this.request({ type: 'stop', id: 0, component });
  }

  async tracing(op: TracingOp): Promise<TakenSpans> {
    if (this.exited) return { spans: [], dropped: 0 };
    return (await this.request({ type: 'tracing', id: 0, op })).value as TakenSpans;
  }
}

/** A worker thread of this process holding components; spawned by `WorkerThread.spawn`. */
export class WorkerThread extends RequestedHost implements SystemThread {
  readonly isMain = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private exitError: Error | undefined;

  protected get label(): string {
    return `system thread ${this.name}`;
  }

  private constructor(
    readonly name: string,
    private readonly worker: Worker,
    readonly tid: number | null,
  ) {
    super();
    worker.on('message', (m: WorkerToMain) => {
      if (m.type !== 'reply') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    worker.on('error', (err) => (this.exitError = err));
    worker.on('exit', (code) => {
      this.exited = true;
      const err = this.exitError ?? new Error(`system thread ${name} exited with code ${code}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Start a worker and wait until it can take components. */
  static async spawn(name: string): Promise<WorkerThread> {
    const worker = spawnWorker();
    const ready = await new Promise<Extract<WorkerToMain, { type: 'ready' }>>((resolve, reject) => {
      const onMessage = (m: WorkerToMain) => {
        if (m.type !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`system thread ${name} exited with code ${code} before it was ready`)));
    });
    worker.removeAllListeners('exit');
    return new WorkerThread(name, worker, ready.tid);
  }

  get alive(): boolean {
    return !this.exited;
  }

  eventLoopUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return since ? this.worker.performance.eventLoopUtilization(since) : this.worker.performance.eventLoopUtilization();
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exit = once(this.worker, 'exit');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
    this.request({ type: 'exit', id: 0 }).catch(() => undefined);
    const outcome = await Promise.race([exit.then(() => 'exited' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      await this.worker.terminate();
      throw new Error(`system thread ${this.name} did not exit within ${EXIT_GRACE_MS} ms: a component left a handle open`);
    }
  }

  protected request(message: MainToWorker): Promise<Extract<WorkerToMain, { type: 'reply' }>> {
    if (this.exited) return Promise.reject(this.exitError ?? new Error(`system thread ${this.name} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (reply) => (reply.error ? reject(new ThreadCallError(reply.error)) : resolve(reply)),
        reject,
      });
      this.worker.postMessage({ ...message, id });
    });
  }
}

/**
 * Built code runs worker-entry.js directly. From the TypeScript sources (vitest), the
 * worker first registers module hooks that compile .ts on load.
 */
function spawnWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker-entry.js', here), { resourceLimits: RESOURCE_LIMITS });
  const register = new URL('./ts-register.mjs', here).href;
  const entry = new URL('./worker-entry.ts', here).href;
  return new Worker(`import(${JSON.stringify(register)}).then(() => import(${JSON.stringify(entry)}))`, { eval: true, resourceLimits: RESOURCE_LIMITS });
}

