/**
 * The event store contract used by the event-sourcing pattern. One interface, two
 * stores: memory (the default, in-process, or served over TCP by server.ts) and PostgreSQL.
 *
 * Numbering conventions (both 1-based, so that 0 always means "nothing yet"):
 * - a stream's **version** is the number of events in it; its first event has version 1,
 *   and a stream that does not exist has version 0;
 * - an event's **position** is its place in the global log: strictly increasing in the
 *   order events become readable, starting at 1. Positions may have gaps (a PostgreSQL
 *   sequence skips numbers after a failed insert); never compute one, read it.
 * Every "after" argument is exclusive: `afterPosition: 0` reads from the first event,
 * and a subscription's `checkpoint` can be handed back as `afterPosition` to resume.
 */

/** Any value JSON.stringify and JSON.parse round-trip. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object (event data, metadata, snapshot state). */
export type JsonObject = { [key: string]: JsonValue };

/** An event as a command handler produces it. */
export interface NewEvent {
  /** Event type, e.g. `OrderPlaced`. Non-empty. */
  readonly type: string;
  readonly data: JsonObject;
  /** Correlation/causation ids and the like; omitted when absent. */
  readonly metadata?: JsonObject;
}

/** An event as the store recorded it. Stores hand these out frozen: do not mutate. */
export interface RecordedEvent extends NewEvent {
  readonly stream: string;
  /** 1-based index of the event within its stream. */
  readonly version: number;
  /** Global position, strictly increasing across all streams. */
  readonly position: number;
  /** When the store recorded the event, in ms since the epoch, fractional where the store has finer time. */
  readonly recordedAt: number;
}

/**
 * What `append` expects the stream's current version to be: the number of events in it
 * (0 for a stream that must not exist yet), or `'any'` to skip the check.
 */
export type ExpectedVersion = number | 'any';

/** What a successful `append` did. */
export interface AppendResult {
  /** The stream's version after the append (= the last appended event's version). */
  readonly version: number;
  /** Global positions of the appended events, in the order given. */
  readonly positions: readonly number[];
}

/** A saved snapshot of a stream's folded state. */
export interface Snapshot {
  /** Version of the last event folded into `state`. */
  readonly version: number;
  readonly state: JsonObject;
  /** When it was saved, in milliseconds since the Unix epoch. */
  readonly savedAt: number;
}

/** Handles one event; a returned promise is awaited before the next event is delivered. */
export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Events read per catch-up query. Default 500. */
  readonly batchSize?: number;
}

/**
 * A catch-up-then-live subscription to the global log. The handler sees every event
 * after the starting position exactly once, one at a time, in position order, with no
 * gap or duplicate at the switch from catch-up reads to live delivery.
 */
export interface Subscription {
  /** Position of the last event whose handler completed; the starting position before that. */
  readonly checkpoint: number;
  /**
   * Resolves the first time the subscription has handled everything in the log (or when
   * it is stopped before that); rejects like `done` if it fails first.
   */
  readonly caughtUp: Promise<void>;
  /**
   * Settles when the subscription ends: resolves after `stop()` (or the store's
   * `close()`), rejects with the error if the handler throws or the store fails.
   */
  readonly done: Promise<void>;
  /**
   * Stops delivery. An event whose handler is running is finished (and counted in
   * `checkpoint`); no handler runs after the returned promise resolves. Never rejects.
   * A handler may call `stop()` but must not await it (it would wait for itself).
   */
  stop(): Promise<void>;
}

export interface EventStore {
  /** `'memory'` or `'postgres'`; shown in reports. */
  readonly kind: string;

  /**
   * Appends events to a stream atomically, if the stream is at `expectedVersion`.
   * Of two concurrent appends with the same expected version exactly one succeeds.
   * @throws WrongExpectedVersionError when the stream's version is not `expectedVersion`.
   */
  append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult>;

  /** A stream's events with version > `afterVersion` (default 0: all), in version order. */
  readStream(stream: string, afterVersion?: number): Promise<readonly RecordedEvent[]>;

  /**
   * One batch of the global log: up to `limit` (default 1000) events with position >
   * `afterPosition`, in position order. An empty batch means the end of the log; to read
   * everything, pass the last event's position back in (see `readAllEvents`).
   */
  readAll(afterPosition: number, limit?: number): Promise<readonly RecordedEvent[]>;

  /**
   * The position of the last event in the log (0 for an empty log): how far a subscriber
   * at checkpoint c is behind is the number of events after c, at most `head() - c`.
   */
  head(): Promise<number>;

  /** Starts a catch-up-then-live subscription after `afterPosition` (0: from the start). */
  subscribe(afterPosition: number, handler: EventHandler, options?: SubscribeOptions): Subscription;

  /** Saves a stream's state as of `version`; an older version than the saved one is ignored. */
  saveSnapshot(stream: string, version: number, state: JsonObject): Promise<void>;

  /** The latest snapshot of a stream, or undefined if none was saved. */
  loadSnapshot(stream: string): Promise<Snapshot | undefined>;

  /**
   * Stops every subscription and closes every connection and timer the store opened.
   * Idempotent. Afterwards every other method rejects with EventStoreClosedError.
   */
  close(): Promise<void>;
}
