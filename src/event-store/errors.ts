import { PatternBenchError } from '../errors.js';
import type { ExpectedVersion } from './types.js';

/** An append found the stream at another version than the caller expected (optimistic concurrency). */
export class WrongExpectedVersionError extends PatternBenchError {
  override readonly code = 'PB_ERR_WRONG_EXPECTED_VERSION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** The stream's version when the append was refused. */
    readonly actual: number,
  ) {
    super(`wrong expected version for stream ${JSON.stringify(stream)}: expected ${expected}, actual ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** The event store was used after `close()`. */
export class EventStoreClosedError extends PatternBenchError {
  override readonly code = 'PB_ERR_EVENT_STORE_CLOSED';
  constructor(readonly kind: string) {
    super(`the ${kind} event store is closed`);
    this.name = 'EventStoreClosedError';
  }
}
