/**
 * A system worker thread: hosts any number of components (one under `per-service`, all
 * of a pattern's under `shared`) and answers the main thread's requests. Reused from run
 * to run: a component is started and stopped in it, the thread stays until `exit`.
 */
import { parentPort } from 'node:worker_threads';
import { answerRequest, transferListOf } from './answer.js';
import { currentThreadId } from './cpu.js';
import { ComponentHost, serializeError } from './host.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-entry.js must run in a worker thread');
const host = new ComponentHost();
const post = (message: WorkerToMain) => port.postMessage(message, message.type === 'reply' ? transferListOf(message) : []);

port.on('message', (m: MainToWorker) => {
  if (m.type === 'exit') {
    void host
      .stopAll()
      .catch(() => undefined)
      .finally(() => {
        post({ type: 'reply', id: m.id });
        port.close(); // nothing left: the worker exits
      });
    return;
  }
  answerRequest(host, m).then(post, (err: unknown) => post({ type: 'reply', id: m.id, error: serializeError(err) }));
});

post({ type: 'ready', tid: currentThreadId() });
