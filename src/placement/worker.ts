import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Address, Network, WireStats } from '../patterns/types.js';
import type { SystemSnapshot } from '../workflow/services.js';
import { readWireStats, SHARED_WIRE_BYTES } from '../wire/meter.js';
import { minus, PLACEMENT_LABELS, type HostModule, type PlacedHost } from './host.js';
import type { MainToWorker, WorkerBoot, WorkerToMain } from './protocol.js';

/** How long a stopped worker may take to exit on its own before it is terminated. ms. */
const EXIT_GRACE_MS = 2000;

/**
 * Run a pattern's service host in a worker thread of this process: the services get a core
 * of their own, as a separate process would, and stay reachable only through their
 * transport. Routes are resolved here, on the main thread, by the run's `network`.
 */
export async function startInWorker<I>(module: HostModule<I>, init: I, network: Network): Promise<PlacedHost> {
  const wireBuffer = new SharedArrayBuffer(SHARED_WIRE_BYTES);
  const boot: WorkerBoot = { moduleUrl: module.url.href, exportName: module.exportName, init, wireBuffer };
  const worker = spawn(boot);
  const send = (message: MainToWorker) => worker.postMessage(message);

  const calls = new Map<number, { resolve: (s: SystemSnapshot | undefined) => void; reject: (e: Error) => void }>();
  let nextCall = 0;
  let hopErrors: Readonly<Record<string, number>> = {};
  let exited = false;
  let exitError: Error | undefined;

  let hops: Readonly<Record<string, Address>> | undefined;
  const ready = new Promise<Address>((resolve, reject) => {
    worker.on('message', (message: WorkerToMain) => {
      switch (message.type) {
        case 'ready':
          hops = message.hops;
          return resolve(message.address);
        case 'failed':
          return reject(new Error(`service worker failed to start: ${message.error}`));
        case 'hop-errors':
          hopErrors = message.counts;
          return;
        case 'route':
          network.route(message.hop, message.target).then(
            (address) => send({ type: 'route-reply', id: message.id, address }),
            (err: unknown) => send({ type: 'route-reply', id: message.id, error: String(err) }),
          );
          return;
        case 'reply': {
          const call = calls.get(message.id);
          calls.delete(message.id);
          if (message.error !== undefined) call?.reject(new Error(message.error));
          else call?.resolve(message.snapshot);
        }
      }
    });
    worker.on('error', (err) => {
      exitError = err;
      reject(err);
    });
    worker.on('exit', (code) => {
      exited = true;
      const err = exitError ?? new Error(`service worker exited with code ${code}`);
      reject(err);
      for (const call of calls.values()) call.reject(err);
      calls.clear();
    });
  });

  const call = (method: 'snapshot' | 'stop') =>
    new Promise<SystemSnapshot | undefined>((resolve, reject) => {
      if (exited) return reject(exitError ?? new Error('service worker has exited'));
      const id = nextCall++;
      calls.set(id, { resolve, reject });
      send({ type: 'call', id, method });
    });

  let address: Address;
  try {
    address = await ready;
  } catch (err) {
    if (!exited) await worker.terminate();
    throw err;
  }

  let base: WireStats = { bytes: 0, messages: 0 };
  return {
    address,
    ...(hops ? { hops } : {}),
    placement: PLACEMENT_LABELS.worker,
    snapshot: async () => {
      const snapshot = await call('snapshot');
      if (!snapshot) throw new Error('service worker returned no snapshot');
      return snapshot;
    },
    hopErrors: () => hopErrors,
    wireStats: () => minus(readWireStats(wireBuffer), base),
    rebaseWire: async () => {
      await call('snapshot'); // the worker publishes its wire stats before it answers
      base = readWireStats(wireBuffer);
    },
    stop: async () => {
      if (exited) return;
      const exit = once(worker, 'exit');
      try {
        await call('stop');
      } catch (err) {
        if (!exited) await worker.terminate();
        throw err;
      }
      // The worker closes its port and exits on its own; a worker that does not is a leak.
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        exit.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), EXIT_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (late) {
        await worker.terminate();
        throw new Error(`service worker did not exit within ${EXIT_GRACE_MS} ms of stop()`);
      }
    },
  };
}

/**
 * Built code runs worker-entry.js directly. From the TypeScript sources (vitest), the worker
 * first registers module hooks that compile .ts on load.
 */
function spawn(boot: WorkerBoot): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker-entry.js', here), { workerData: boot });
  const register = new URL('./ts-register.mjs', here).href;
  const entry = new URL('./worker-entry.ts', here).href;
  const code = `import(${JSON.stringify(register)}).then(() => import(${JSON.stringify(entry)}))`;
  return new Worker(code, { eval: true, workerData: boot });
}
