/**
 * A child process holding components (`--topology processes`): what worker-entry.ts is to
 * a worker thread, over the IPC channel of `child_process.fork` (advanced serialization).
 * Reused from run to run like a worker: components start and stop in it, the process stays
 * until the parent asks it to `exit` — or until the channel closes (the parent died or was
 * killed): then it stops what runs and exits, so no child outlives its parent.
 */
import { performance } from 'node:perf_hooks';
import { answerRequest } from './answer.js';
import { ComponentHost, serializeError } from './host.js';
import type { ParentToProcess, ProcessToParent } from './process-protocol.js';

/** How long stopping may take once the parent is gone (or has asked to exit) before the process ends regardless. ms. */
const ORPHAN_GRACE_MS = 2000;

if (!process.send) throw new Error('process-entry.js must run in a child process with an IPC channel (child_process.fork)');
const host = new ComponentHost();
let leaving = false;

const post = (message: ProcessToParent) => {
  // The channel may have closed meanwhile (the parent is gone): nothing to answer.
  if (process.connected) process.send?.(message);
};

async function answer(m: Exclude<ParentToProcess, { type: 'exit' }>): Promise<ProcessToParent> {
  if (m.type !== 'usage') return answerRequest(host, m);
  const cpu = process.cpuUsage();
  return { type: 'reply', id: m.id, value: { elu: performance.eventLoopUtilization(), cpuMs: (cpu.user + cpu.system) / 1000 } };
}

/** End this process after stopping what runs, within ORPHAN_GRACE_MS. */
function leave(code: number): void {
  setTimeout(() => process.exit(code), ORPHAN_GRACE_MS).unref();
  void host
    .stopAll()
    .catch(() => undefined)
    .finally(() => process.exit(code));
}

process.on('message', (m: ParentToProcess) => {
  if (m.type === 'exit') {
    leaving = true;
    void host
      .stopAll()
      .catch(() => undefined)
      .finally(() => {
        post({ type: 'reply', id: m.id });
        // Nothing left: with the channel closed the process ends by itself — unless a
        // component left a handle open, which the parent then reports (as for a worker).
        // The unref'd timer ends it in any case, even if the parent is gone by then.
        setTimeout(() => process.exit(1), 2 * ORPHAN_GRACE_MS).unref();
        process.disconnect();
      });
    return;
  }
  answer(m).then(post, (err: unknown) => post({ type: 'reply', id: m.id, error: serializeError(err) }));
});

// The channel closed without an `exit`: the parent died (SIGKILL, a crash) or quit at once.
process.on('disconnect', () => {
  if (!leaving) leave(0);
});

// Ctrl-C in a terminal reaches the whole process group; the parent decides when its
// children stop (it finishes the current run first), so the children ignore it.
process.on('SIGINT', () => undefined);

post({ type: 'ready', pid: process.pid });
