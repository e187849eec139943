/**
 * Calls that arrive while earlier ones are in flight share one query (group commit for
 * appends, one `= ANY` read for stream reads and snapshots): at most `maxInFlight` queries
 * at a time, each taking up to `maxBatch` of the calls waiting. A lone call runs at once,
 * alone, so an idle store pays no wait. Each call's query runs after the call was made and
 * before it returns, so batching changes no answer a call may get.
 */
export class Coalescer<I, R> {
  #waiting: { input: I; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  #inFlight = 0;

  constructor(
    /** Runs the inputs as one query; returns one result (or error, to throw at that call) per input, in order. */
    private readonly run: (inputs: readonly I[]) => Promise<readonly (R | BatchItemError)[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  call(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#inFlight < this.maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.maxBatch);
      this.#inFlight++;
      this.run(batch.map((b) => b.input))
        .then(
          (results) => {
            for (const [i, b] of batch.entries()) {
              const r = results[i];
              if (r instanceof BatchItemError) b.reject(r.error);
              else b.resolve(r as R);
            }
          },
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          this.#inFlight--;
          this.#next();
        });
    }
  }
}

/** One call's failure inside a batch that otherwise succeeded. */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}
