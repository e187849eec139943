import { setTimeout as sleep } from 'node:timers/promises';
import { WrongExpectedVersionError, type EventStore, type JsonObject, type NewEvent, type RecordedEvent } from '../../event-store/index.js';
import type { Random } from '../../random.js';
import { eventTraceMetadata } from '../../tracing/index.js';

/** How one kind of aggregate is folded and snapshotted. `apply` may fold in place. */
export interface AggregateType<S> {
  /** For counters and errors: `order`, `stock`, `account`. */
  readonly name: string;
  /** Whether its streams are long enough to snapshot. Default true. */
  readonly snapshots?: boolean;
  /**
   * Its streams are written by one repository only (the processor that owns them: a SKU's
   * stock, a customer's account), so the state that repository kept after its own append is
   * the stream's state, and the next command decides on it without reading the store. Not
   * for a stream that others write too (an order's): a command that decides "nothing to do"
   * appends nothing, so no expected version would catch a state that others moved on.
   */
  readonly kept?: boolean;
  initial(stream: string): S;
  apply(state: S, event: Pick<RecordedEvent, 'type' | 'data'>): S;
  toJson(state: S): JsonObject;
  fromJson(json: JsonObject): S;
}

export interface Loaded<S> {
  readonly state: S;
  /** The stream's version the state was folded up to (0: no stream yet). */
  readonly version: number;
}

/** `events` with the trace's correlation and causation ids in their metadata, when a traced order is worked on (else themselves). */
function traced(events: readonly NewEvent[]): readonly NewEvent[] {
  const metadata = eventTraceMetadata();
  if (!metadata) return events;
  return events.map((e) => ({ ...e, metadata: { ...e.metadata, ...metadata } }));
}

/** What a command decided: the events to append (none: nothing to do) and its answer. */
export interface Decision<R> {
  readonly events: readonly NewEvent[];
  readonly result: R;
}

/** Optimistic-concurrency figures, cumulative. */
export interface ConcurrencyCounters {
  /** Appends refused with WrongExpectedVersionError. */
  conflicts: number;
  /** Commands re-run (stream re-read, decision re-made) after a conflict. */
  retries: number;
  /** Commands that gave up after `maxAttempts` conflicts. */
  exhausted: number;
  /** Events appended. */
  appended: number;
  /** Snapshots saved. */
  snapshots: number;
}

export interface RepositoryOptions {
  /** Save a snapshot each time a stream crosses a multiple of this many events; 0: never. */
  readonly snapshotEvery: number;
  /** Whether `load` starts from the latest snapshot. Default true. */
  readonly useSnapshots?: boolean;
  /** Jitter for the back-off between retries. */
  readonly random: Random;
  /** Attempts per command before it gives up. Default 200. */
  readonly maxAttempts?: number;
  /** Called just before an append, with the versions the events will get (projection lag starts here). */
  readonly beforeAppend?: (stream: string, firstVersion: number, count: number) => void;
  /** Streams whose state after this repository's last append is kept for the next command on them. Default 10,000; 0: none. */
  readonly cacheStreams?: number;
}

/** A command run by a processor that has crashed since: it stops before its next append. */
export class ProcessorCrashedError extends Error {
  constructor(readonly processor: string) {
    super(`${processor} crashed`);
    this.name = 'ProcessorCrashedError';
  }
}

/** A command that kept losing the race for its stream. */
export class ConflictRetriesExhaustedError extends Error {
  readonly code = 'PB_ERR_ES_CONFLICT_RETRIES';
  constructor(
    readonly stream: string,
    readonly attempts: number,
  ) {
    super(`gave up on stream ${JSON.stringify(stream)} after ${attempts} concurrency conflicts`);
    this.name = 'ConflictRetriesExhaustedError';
  }
}

/**
 * Loads aggregates (latest snapshot + the events after it) and runs commands on them
 * with optimistic concurrency: decide on the state at version v, append with expected
 * version v; on a conflict re-read the stream and decide again.
 *
 * For aggregates it alone writes (`AggregateType.kept`) it keeps each stream's state and
 * version after its append (a bounded cache, least recently used out first), and the next
 * command on that stream decides on them without reading the store. The append's expected
 * version still guards them: a stream moved since (a concurrent command of its own) fails
 * the append, drops the entry and is read afresh. On PostgreSQL this saves a hot account's
 * or SKU's snapshot and stream queries; `forget()` drops everything (a crashed processor's
 * memory).
 */
export class Repository {
  readonly counters: ConcurrencyCounters = { conflicts: 0, retries: 0, exhausted: 0, appended: 0, snapshots: 0 };
  private readonly maxAttempts: number;
  private readonly useSnapshots: boolean;
  private readonly cacheStreams: number;
  private readonly cache = new Map<string, Loaded<unknown>>();

  constructor(
    readonly store: EventStore,
    private readonly options: RepositoryOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.useSnapshots = options.useSnapshots ?? true;
    this.cacheStreams = options.cacheStreams ?? 10_000;
  }

  /** Drop every kept state: the next command on any stream reads it from the store. */
  forget(): void {
    this.cache.clear();
  }

  async load<S>(type: AggregateType<S>, stream: string): Promise<Loaded<S>> {
    const snapshot = this.useSnapshots && type.snapshots !== false ? await this.store.loadSnapshot(stream) : undefined;
    let state = snapshot === undefined ? type.initial(stream) : type.fromJson(snapshot.state);
    let version = snapshot?.version ?? 0;
    for (const event of await this.store.readStream(stream, version)) {
      state = type.apply(state, event);
      version = event.version;
    }
    return { state, version };
  }

  /**
   * Runs `decide` on the stream's current state and appends what it returns with the
   * expected version, retrying on conflicts. `alive` is checked before every append: a
   * crashed processor's command stops there.
   *
   * `from`: the stream's state at a version the caller knows without reading the store
   * (the state an event it is handling records: see `orderAt`). The first attempt decides
   * on it; the expected version catches a stream that moved on since, and a decision of
   * nothing on it is made again on the stream as read, so a stale `from` costs a round
   * trip, never a wrong answer (`decide` may then run twice).
   */
  async execute<S, R>(
    type: AggregateType<S>,
    stream: string,
    decide: (state: S) => Decision<R>,
    alive: () => boolean = () => true,
    from?: Loaded<S>,
  ): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      let loaded = (attempt === 1 ? (from ?? (type.kept ? this.kept<S>(stream) : undefined)) : undefined) ?? (await this.load(type, stream));
      let decision = decide(loaded.state);
      if (decision.events.length === 0 && loaded === from) {
        // "Nothing to do" on a state that was not read may be stale, and no expected version would catch it: decide again on the stream as stored.
        loaded = await this.load(type, stream);
        decision = decide(loaded.state);
      }
      const { state, version } = loaded;
      const { events, result } = decision;
      if (events.length === 0) return result;
      if (!alive()) throw new ProcessorCrashedError(type.name);
      this.options.beforeAppend?.(stream, version + 1, events.length);
      try {
        const appended = await this.store.append(stream, traced(events), version);
        this.counters.appended += events.length;
        let folded = state;
        for (const event of events) folded = type.apply(folded, event);
        if (type.kept) this.keep(stream, { state: folded, version: appended.version });
        await this.maybeSnapshot(type, stream, folded, version, appended.version);
        return result;
      } catch (err) {
        // Whatever happened to the append, what this repository kept of the stream may be behind now.
        this.cache.delete(stream);
        if (!(err instanceof WrongExpectedVersionError)) throw err;
        this.counters.conflicts++;
        if (attempt >= this.maxAttempts) {
          this.counters.exhausted++;
          throw new ConflictRetriesExhaustedError(stream, attempt);
        }
        this.counters.retries++;
        // Back off a little, with jitter, once the first immediate retry lost again.
        if (attempt > 1) await sleep(this.options.random.next() * Math.min(2 ** (attempt - 2), 20));
      }
    }
  }

  /**
   * Starts a new stream with `events` (expected version 0), without reading it first.
   * Returns false, appending nothing, if the stream exists already.
   */
  async create(stream: string, events: readonly NewEvent[]): Promise<boolean> {
    this.options.beforeAppend?.(stream, 1, events.length);
    try {
      await this.store.append(stream, traced(events), 0);
    } catch (err) {
      if (err instanceof WrongExpectedVersionError) return false;
      throw err;
    }
    this.counters.appended += events.length;
    return true;
  }

  /** The state kept for `stream`, marked as just used (the cache drops the least recently used). */
  private kept<S>(stream: string): Loaded<S> | undefined {
    const entry = this.cache.get(stream) as Loaded<S> | undefined;
    if (entry === undefined) return undefined;
    this.cache.delete(stream);
    this.cache.set(stream, entry);
    return entry;
  }

  private keep<S>(stream: string, loaded: Loaded<S>): void {
    if (this.cacheStreams <= 0) return;
    this.cache.delete(stream);
    this.cache.set(stream, loaded);
    if (this.cache.size > this.cacheStreams) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** `folded`: the state at `to`, with the appended events (from `from`) folded in. */
  private async maybeSnapshot<S>(type: AggregateType<S>, stream: string, folded: S, from: number, to: number): Promise<void> {
    const every = this.options.snapshotEvery;
    if (every <= 0 || type.snapshots === false || Math.floor(to / every) === Math.floor(from / every)) return;
    await this.store.saveSnapshot(stream, to, type.toJson(folded));
    this.counters.snapshots++;
  }
}
