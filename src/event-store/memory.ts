import { EventStoreClosedError, WrongExpectedVersionError } from './errors.js';
import { CatchUpSubscription, type LogSource } from './subscription.js';
import type {
  AppendResult,
  EventHandler,
  EventStore,
  ExpectedVersion,
  JsonObject,
  NewEvent,
  RecordedEvent,
  Snapshot,
  SubscribeOptions,
  Subscription,
} from './types.js';
import { checkAppend, checkCount, checkStream } from './validate.js';

const DEFAULT_READ_LIMIT = 1000;

/**
 * The in-process event store: the default, and on the benchmark's hot path. One array is
 * the global log (position p lives at index p - 1, so positions are contiguous here), one
 * array per stream indexes into the same event objects. Live subscribers are woken
 * directly by `append`; nothing polls.
 *
 * Event data is stored by reference, not copied: do not mutate an object after appending
 * it. Recorded events are frozen (shallowly).
 */
export class MemoryEventStore implements EventStore {
  readonly kind = 'memory';
  readonly #log: RecordedEvent[] = [];
  readonly #streams = new Map<string, RecordedEvent[]>();
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #subscriptions = new Set<CatchUpSubscription>();
  #closed = false;
  readonly #source: LogSource = {
    readAll: (after, limit) => this.readAll(after, limit),
    ready: () => Promise.resolve(),
    release: (sub) => this.#subscriptions.delete(sub),
  };

  async append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    this.#checkOpen();
    checkAppend(stream, events, expectedVersion);
    let streamEvents = this.#streams.get(stream);
    const current = streamEvents?.length ?? 0;
    if (expectedVersion !== 'any' && expectedVersion !== current) {
      throw new WrongExpectedVersionError(stream, expectedVersion, current);
    }
    if (events.length === 0) return { version: current, positions: [] };
    if (streamEvents === undefined) {
      streamEvents = [];
      this.#streams.set(stream, streamEvents);
    }
    // Sub-millisecond epoch time, so that a reader on another thread can measure lag from it.
    const recordedAt = performance.timeOrigin + performance.now();
    const positions: number[] = [];
    for (const event of events) {
      const recorded: RecordedEvent =
        event.metadata === undefined
          ? { type: event.type, data: event.data, stream, version: streamEvents.length + 1, position: this.#log.length + 1, recordedAt }
          : {
              type: event.type,
              data: event.data,
              metadata: event.metadata,
              stream,
              version: streamEvents.length + 1,
              position: this.#log.length + 1,
              recordedAt,
            };
      Object.freeze(recorded);
      this.#log.push(recorded);
      streamEvents.push(recorded);
      positions.push(recorded.position);
    }
    for (const sub of this.#subscriptions) sub.wake();
    return { version: streamEvents.length, positions };
  }

  async readStream(stream: string, afterVersion = 0): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('afterVersion', afterVersion, 0);
    return this.#streams.get(stream)?.slice(afterVersion) ?? [];
  }

  async readAll(afterPosition: number, limit = DEFAULT_READ_LIMIT): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkCount('afterPosition', afterPosition, 0);
    checkCount('limit', limit, 1);
    return this.#log.slice(afterPosition, afterPosition + limit);
  }

  async head(): Promise<number> {
    this.#checkOpen();
    return this.#log.length;
  }

  subscribe(afterPosition: number, handler: EventHandler, options?: SubscribeOptions): Subscription {
    this.#checkOpen();
    const sub = new CatchUpSubscription(afterPosition, handler, this.#source, options);
    this.#subscriptions.add(sub);
    return sub;
  }

  async saveSnapshot(stream: string, version: number, state: JsonObject): Promise<void> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('version', version, 0);
    const saved = this.#snapshots.get(stream);
    if (saved !== undefined && saved.version > version) return;
    // Snapshots are copied, unlike events: a caller typically keeps folding the same state object.
    this.#snapshots.set(stream, Object.freeze({ version, state: structuredClone(state), savedAt: Date.now() }));
  }

  async loadSnapshot(stream: string): Promise<Snapshot | undefined> {
    this.#checkOpen();
    checkStream(stream);
    const saved = this.#snapshots.get(stream);
    return saved === undefined ? undefined : { version: saved.version, state: structuredClone(saved.state), savedAt: saved.savedAt };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((sub) => sub.stop()));
  }

  #checkOpen(): void {
    if (this.#closed) throw new EventStoreClosedError(this.kind);
  }
}
