/**
 * The generic service worker: imports a host factory, starts it, and answers the main
 * thread's calls (snapshot, stop) and routes (`network.route` is answered by the main
 * thread, where the run's fault plane lives). Exits on its own once stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Address, Network } from '../patterns/types.js';
import { publishWireStats, WireMeter } from '../wire/meter.js';
import type { HostFactory, ServiceHost } from './host.js';
import type { MainToWorker, WorkerBoot, WorkerToMain } from './protocol.js';

const PUBLISH_INTERVAL_MS = 100;

const port = parentPort;
if (!port) throw new Error('worker-entry.js must run in a worker thread');
const boot = workerData as WorkerBoot;
const post = (message: WorkerToMain) => port.postMessage(message);

const routes = new Map<number, { resolve: (a: Address) => void; reject: (e: Error) => void }>();
let nextRouteId = 0;
const network: Network = {
  route: (hop, target) =>
    new Promise<Address>((resolve, reject) => {
      const id = nextRouteId++;
      routes.set(id, { resolve, reject });
      post({ type: 'route', id, hop, target });
    }),
};

const meter = new WireMeter();
let host: ServiceHost | undefined;
let lastHopErrors = '{}';
const publish = () => {
  publishWireStats(boot.wireBuffer, meter.stats());
  if (!host) return;
  const counts = host.hopErrors();
  const text = JSON.stringify(counts);
  if (text !== lastHopErrors) {
    lastHopErrors = text;
    post({ type: 'hop-errors', counts });
  }
};
const publisher = setInterval(publish, PUBLISH_INTERVAL_MS);

port.on('message', (message: MainToWorker) => {
  if (message.type === 'route-reply') {
    const pending = routes.get(message.id);
    routes.delete(message.id);
    if (message.address) pending?.resolve(message.address);
    else pending?.reject(new Error(message.error ?? 'route failed'));
    return;
  }
  void answer(message.id, message.method);
});

async function answer(id: number, method: 'snapshot' | 'stop'): Promise<void> {
  try {
    if (!host) throw new Error('the services are not running');
    if (method === 'snapshot') {
      const snapshot = await host.snapshot();
      publish();
      post({ type: 'reply', id, snapshot });
      return;
    }
    await host.stop();
    publish();
    clearInterval(publisher);
    post({ type: 'reply', id });
    port?.close(); // nothing left: the worker exits
  } catch (err) {
    post({ type: 'reply', id, error: err instanceof Error ? err.message : String(err) });
  }
}

try {
  const mod = (await import(boot.moduleUrl)) as Record<string, unknown>;
  const factory = mod[boot.exportName];
  if (typeof factory !== 'function') throw new Error(`${boot.moduleUrl} has no export ${boot.exportName}`);
  host = await (factory as HostFactory<unknown>)(boot.init, { network, meter });
  post({ type: 'ready', address: host.address, ...(host.hops ? { hops: host.hops } : {}) });
} catch (err) {
  clearInterval(publisher);
  post({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  port.close();
}
