/**
 * How a thread or process holding components answers the main thread's requests — the
 * worker protocol (protocol.ts) — the same in a worker thread (worker-entry.ts) and in a
 * child process (process-entry.ts).
 */
import { ByClone } from './clone.js';
import type { ComponentApi, ComponentFactory } from './component.js';
import type { ComponentHost } from './host.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';
import { applyTracing } from './tracing.js';

type Reply = Extract<WorkerToMain, { type: 'reply' }>;

/** The buffers each reply may move rather than copy (a byClone result's `transfer`). */
const transfers = new WeakMap<Reply, readonly ArrayBuffer[]>();

/** What a worker thread posting `reply` may transfer: a byClone result's buffers; none for any other. */
export function transferListOf(reply: Reply): ArrayBuffer[] {
  return [...(transfers.get(reply) ?? [])];
}

async function factoryOf(moduleUrl: string, exportName: string): Promise<ComponentFactory<unknown, ComponentApi>> {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  const factory = mod[exportName];
  if (typeof factory !== 'function') throw new Error(`${moduleUrl} has no export ${exportName}`);
  return factory as ComponentFactory<unknown, ComponentApi>;
}

/** The answer to one request (every one but `exit`, which each entry handles its own way). */
export async function answerRequest(host: ComponentHost, m: Exclude<MainToWorker, { type: 'exit' }>): Promise<Reply> {
  switch (m.type) {
    case 'start': {
      const started = await host.start(m.component, m.name, await factoryOf(m.moduleUrl, m.exportName), m.init, m.seed, m.journal);
      return { type: 'reply', id: m.id, started };
    }
    case 'call': {
      // Results are plain data; as JSON text they cross the thread boundary about twice as
      // fast as a structured clone (a 100k-order snapshot: 0.3 s vs 0.6 s).
      // A result marked byClone (typed arrays: a packed snapshot) goes as a structured clone.
      const value = await host.call(m.component, m.method, m.args);
      if (value instanceof ByClone) {
        const reply: Reply = { type: 'reply', id: m.id, value: value.value };
        transfers.set(reply, value.transfer);
        return reply;
      }
      return value === undefined ? { type: 'reply', id: m.id } : { type: 'reply', id: m.id, json: JSON.stringify(value) };
    }
    case 'wire':
      return { type: 'reply', id: m.id, value: host.wire(m.component) };
    case 'gate':
      return { type: 'reply', id: m.id, value: host.gate(m.component, m.hop, m.op) };
    case 'stop':
      // No forced collection here: a full GC forced on a system's thread between runs threw
      // away its warm code (the next run of rest started at ~1,000 orders/s and climbed for
      // ~2 s to ~2,300; without it, at ~2,000 from the first slice). V8 collects the run's
      // garbage when it needs to. The load generator's thread still collects after each run.
      await host.stop(m.component);
      return { type: 'reply', id: m.id };
    case 'tracing':
      return { type: 'reply', id: m.id, value: await applyTracing(m.op) };
    default:
      // A request this side does not know (the protocol grew): an error reply, not silence.
      throw new Error(`a system thread does not answer ${(m as { type: string }).type} requests`);
  }
}
