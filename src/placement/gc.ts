import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full garbage collection of this thread's heap, now (each thread, main or worker, has
 * its own). The runner calls it on the load generator's thread between runs: V8 lets garbage
 * build up to a limit it sets from the last collection's survivors, so without it one run's
 * garbage (a 100k-order log, its packed snapshot and the checker's tallies) is still on the heap when the
 * next run starts and is collected — or not — inside that run's window. Not on a system's
 * thread: forced there, it threw away the thread's warm code (see placement/answer.ts).
 * Takes tens of ms, outside every measured window. `node --expose-gc` is not needed: the
 * function is taken from a context made while the flag is on.
 */
export function collectGarbage(): void {
  gc ??= (globalThis as { gc?: () => void }).gc ?? exposeGc();
  gc();
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return fn;
}
