/** Worker-thread entry of {@link startBrokerInWorker}: start, report, stop on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { startBroker, type BrokerOptions } from './server.js';
import { type WorkerReady } from './worker.js';

const port = parentPort;
if (port === null) throw new Error('worker-main must run in a worker thread');
const broker = await startBroker(workerData as BrokerOptions);
const ready: WorkerReady = { url: broker.url, port: broker.port, product: broker.product, version: broker.version };
port.postMessage(ready);
port.on('message', (m: unknown) => {
  if (m === 'stop') void broker.stop().then(() => port.close());
});
