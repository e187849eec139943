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
