import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { type BrokerOptions } from './server.js';

/** The embedded broker running in its own worker thread (its own event loop and core). */
export interface WorkerBroker {
  readonly url: string;
  readonly port: number;
  readonly product: string;
  readonly version: string;
  stop(): Promise<void>;
}

export interface WorkerReady {
  url: string;
  port: number;
  product: string;
  version: string;
}

/**
 * Starts the broker in a worker thread, the way RabbitMQ runs in its own process.
 * Needs the compiled `worker-main.js` next to this module (i.e. runs from dist/).
 */
export async function startBrokerInWorker(options: Omit<BrokerOptions, 'log'> = {}): Promise<WorkerBroker> {
  const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: options });
  const ready = await new Promise<WorkerReady>((resolve, reject) => {
    worker.once('message', (m: WorkerReady) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`broker worker exited with code ${code} before it was ready`)));
  });
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  return {
    ...ready,
    stop: async () => {
      const exited = once(worker, 'exit');
      worker.postMessage('stop');
      await exited;
    },
  };
}
