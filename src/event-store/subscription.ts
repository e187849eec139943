import type { EventHandler, RecordedEvent, SubscribeOptions, Subscription } from './types.js';

/** Default number of events read per catch-up query. */
export const DEFAULT_BATCH_SIZE = 500;

/** What a store lends the shared subscription loop. */
export interface LogSource {
  /** The store's `readAll`. */
  readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]>;
  /** Resolves once the store will call `wake()` for every later append (PostgreSQL: LISTEN is active). */
  ready(): Promise<void>;
  /** Called once the subscription has ended, so that the store forgets it. */
  release(sub: CatchUpSubscription): void;
}

/**
 * Catch-up-then-live delivery, shared by both stores: read a batch after the checkpoint,
 * hand it to the handler one event at a time, and once a read comes back short, sleep
 * until the store calls `wake()` after an append.
 *
 * No gap and no duplicate at the switch: the `dirty` flag is cleared *before* each read,
 * so an append that becomes readable after the read's snapshot sets it again (its wake-up
 * comes after it is readable) and the loop reads again instead of sleeping. Reads always
 * start after the checkpoint, so an event seen twice is impossible.
 */
export class CatchUpSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  readonly done: Promise<void>;
  #checkpoint: number;
  #stopped = false;
  #dirty = false;
  #handlerFailed = false;
  #failure: { error: unknown } | undefined;
  #sleeper: (() => void) | undefined;
  #resolveCaughtUp!: () => void;
  #rejectCaughtUp!: (err: unknown) => void;
  readonly #batchSize: number;

  constructor(
    afterPosition: number,
    private readonly handler: EventHandler,
    private readonly source: LogSource,
    options: SubscribeOptions = {},
  ) {
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) {
      throw new RangeError(`afterPosition must be a non-negative integer, got ${afterPosition}`);
    }
    this.#checkpoint = afterPosition;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isSafeInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.#batchSize}`);
    }
    this.caughtUp = new Promise((resolve, reject) => {
      this.#resolveCaughtUp = resolve;
      this.#rejectCaughtUp = reject;
    });
    this.done = this.#run().then(
      () => {
        this.#stopped = true;
        this.source.release(this);
        this.#resolveCaughtUp();
      },
      (err: unknown) => {
        this.#stopped = true;
        this.source.release(this);
        this.#rejectCaughtUp(err);
        throw err;
      },
    );
    // Both promises are observed here so that a subscription nobody awaits cannot crash
    // the process with an unhandled rejection; whoever awaits them still sees the error.
    this.done.catch(() => {});
    this.caughtUp.catch(() => {});
  }

  get checkpoint(): number {
    return this.#checkpoint;
  }

  /** The store calls this after every append (memory) or notification (PostgreSQL). */
  wake(): void {
    this.#dirty = true;
    const sleeper = this.#sleeper;
    if (sleeper !== undefined) {
      this.#sleeper = undefined;
      sleeper();
    }
  }

  /** The store calls this when live delivery is lost (PostgreSQL: the LISTEN connection failed). */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await this.done.catch(() => {});
  }

  async #run(): Promise<void> {
    try {
      await this.#deliver();
    } catch (err) {
      // A read cut short by stop() or close() is not a failure; a handler's error always is.
      if (!this.#stopped || this.#handlerFailed) throw err;
    }
  }

  async #deliver(): Promise<void> {
    await this.source.ready();
    const handler = this.handler;
    while (!this.#stopped) {
      if (this.#failure !== undefined) throw this.#failure.error;
      this.#dirty = false;
      const batch = await this.source.readAll(this.#checkpoint, this.#batchSize);
      for (const event of batch) {
        if (this.#stopped) return;
        try {
          const pending = handler(event);
          if (pending !== undefined) await pending;
        } catch (err) {
          this.#handlerFailed = true;
          throw err;
        }
        this.#checkpoint = event.position;
      }
      if (batch.length < this.#batchSize) {
        this.#resolveCaughtUp();
        if (!this.#dirty && !this.#stopped) {
          await new Promise<void>((resolve) => (this.#sleeper = resolve));
        }
      }
    }
  }
}
