/**
 * Run `call` `times` times, `concurrency` at a time. Patterns use it at start to warm their
 * transport's code paths (JIT, connections) with requests that the services refuse before
 * any effect — so a short run does not spend its warm-up compiling. `call` resolves when
 * the request was refused as expected; the first failure (a slow or broken hop) ends the
 * warm-up, which never fails the start.
 */
export async function warmUp(times: number, concurrency: number, call: () => Promise<unknown>): Promise<void> {
  let left = times;
  const worker = async () => {
    while (left-- > 0) {
      try {
        await call();
      } catch {
        left = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** How many refused requests a pattern sends per hop at start. */
export const WARM_UP_CALLS = 300;

/** What this thread (its isolate: its JIT) has warmed already, by key. */
const warmedHere = new Set<string>();

/**
 * `warmUp` in full the first time `key` (a pattern's hop) is warmed on this thread, when its
 * code compiles; on a later start of the same pattern on the same thread (threads and child
 * processes are kept from run to run) only `concurrency` calls, which open the new start's
 * connections: the code is compiled already, and the full round cost every later start a
 * few hundred milliseconds of nothing (gRPC's three hops ~0.4 s a start).
 */
export async function warmUpOnce(key: string, times: number, concurrency: number, call: () => Promise<unknown>): Promise<void> {
  const first = !warmedHere.has(key);
  warmedHere.add(key);
  await warmUp(first ? times : Math.min(times, concurrency), concurrency, call);
}
