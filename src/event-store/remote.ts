import { connect, type Socket } from 'node:net';
import { Deque } from '../broker/deque.js';
import { InvalidOptionError, ServiceUnreachableError } from '../errors.js';
import { EventStoreClosedError } from './errors.js';
import { DEFAULT_BATCH_SIZE } from './subscription.js';
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
import {
  formatEventStoreUrl,
  FrameReader,
  FrameWriter,
  fromWireError,
  parseEventStoreUrl,
  type EventStoreAddress,
  type Results,
  type ServerFrame,
  type StoreRequest,
  type SubscribeRequest,
} from './wire.js';

/** Options of {@link connectEventStore}. */
export interface RemoteEventStoreOptions {
  /** How long a TCP connection (the requests' or a subscription's) may take to open, in milliseconds. Default 3000. */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_READ_LIMIT = 1000;
/** A subscription pauses its socket when more events than this wait for the handler… */
const QUEUE_HIGH_WATER = 256;
/** …and resumes it once no more than this many do. */
const QUEUE_LOW_WATER = 64;

/**
 * A connection to an event store server failed. `code` is the socket's error code
 * (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`…), `ECONNCLOSED` when the server closed the
 * connection cleanly, `ETIMEDOUT` when it did not open within `connectTimeoutMs`, and
 * `EPROTO` when the server sent something that is not a frame.
 */
export class EventStoreConnectionError extends Error {
  constructor(
    readonly address: EventStoreAddress,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`event store connection to ${formatEventStoreUrl(address)} failed: ${code}`, options);
    this.name = 'EventStoreConnectionError';
  }
}

/**
 * Connects to an event store server (`startEventStoreServer`) at a `pbes://host:port` URL
 * or an address; resolves once the request connection is open.
 * @throws InvalidOptionError for a malformed URL or `connectTimeoutMs`.
 * @throws ServiceUnreachableError when the server cannot be reached within `connectTimeoutMs`.
 */
export async function connectEventStore(
  url: string | EventStoreAddress,
  options: RemoteEventStoreOptions = {},
): Promise<RemoteEventStore> {
  const address = typeof url === 'string' ? parseEventStoreUrl(url) : { host: url.host, port: url.port };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs < 1) {
    throw new InvalidOptionError('connectTimeoutMs', connectTimeoutMs, 'a positive integer (milliseconds)');
  }
  const store = new RemoteEventStore(address, connectTimeoutMs);
  try {
    await store.connect();
  } catch (err) {
    await store.close();
    const code = err instanceof EventStoreConnectionError ? err.code : String(err);
    const reason = code === 'ETIMEDOUT' ? `no connection within ${connectTimeoutMs} ms (ETIMEDOUT)` : code;
    throw new ServiceUnreachableError('--event-store', formatEventStoreUrl(address), reason);
  }
  return store;
}

/**
 * An event store on the other end of a TCP connection: same contract, same errors as
 * the memory store behind it. Requests share one connection, opened lazily and reopened
 * by the next request after it drops (requests in flight then reject with an
 * EventStoreConnectionError); each subscription has a connection of its own, so that
 * pausing it for backpressure never holds up requests.
 *
 * Arguments are validated here as the memory store does, before anything is sent, so
 * that a bad call fails with exactly the memory store's error.
 */
export class RemoteEventStore implements EventStore {
  /** The kind of the store behind the server. */
  readonly kind = 'memory';
  readonly #subscriptions = new Set<RemoteSubscription>();
  #requests: RequestConnection | undefined;
  #lastId = 0;
  #closing: Promise<void> | undefined;

  /** Use `connectEventStore`. */
  constructor(
    readonly address: EventStoreAddress,
    private readonly connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  ) {}

  /** Opens the request connection now (the first request would otherwise); resolves once it is open. */
  connect(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new EventStoreClosedError(this.kind));
    return this.#connection().connected;
  }

  async append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    this.#checkOpen();
    checkAppend(stream, events, expectedVersion);
    return this.#call({ id: ++this.#lastId, op: 'append', stream, events, expectedVersion });
  }

  async readStream(stream: string, afterVersion = 0): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('afterVersion', afterVersion, 0);
    return freezeAll(await this.#call({ id: ++this.#lastId, op: 'readStream', stream, afterVersion }));
  }

  async readAll(afterPosition: number, limit = DEFAULT_READ_LIMIT): Promise<readonly RecordedEvent[]> {
    this.#checkOpen();
    checkCount('afterPosition', afterPosition, 0);
    checkCount('limit', limit, 1);
    return freezeAll(await this.#call({ id: ++this.#lastId, op: 'readAll', afterPosition, limit }));
  }

  async head(): Promise<number> {
    this.#checkOpen();
    return this.#call({ id: ++this.#lastId, op: 'head' });
  }

  subscribe(afterPosition: number, handler: EventHandler, options: SubscribeOptions = {}): Subscription {
    this.#checkOpen();
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    // The same checks and messages as CatchUpSubscription's, which runs on the server.
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) {
      throw new RangeError(`afterPosition must be a non-negative integer, got ${afterPosition}`);
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const request: SubscribeRequest = { id: ++this.#lastId, op: 'subscribe', afterPosition, batchSize };
    const sub = new RemoteSubscription(this.address, this.connectTimeoutMs, request, handler, (s) => this.#subscriptions.delete(s));
    this.#subscriptions.add(sub);
    return sub;
  }

  async saveSnapshot(stream: string, version: number, state: JsonObject): Promise<void> {
    this.#checkOpen();
    checkStream(stream);
    checkCount('version', version, 0);
    await this.#call({ id: ++this.#lastId, op: 'saveSnapshot', stream, version, state });
  }

  async loadSnapshot(stream: string): Promise<Snapshot | undefined> {
    this.#checkOpen();
    checkStream(stream);
    return this.#call({ id: ++this.#lastId, op: 'loadSnapshot', stream });
  }

  /** Stops every subscription, rejects requests in flight with EventStoreClosedError and closes every socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new EventStoreClosedError(this.kind);
      const closing = [...this.#subscriptions].map((sub) => sub.stop());
      if (this.#requests !== undefined) closing.push(this.#requests.shutdown(closed));
      await Promise.all(closing);
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new EventStoreClosedError(this.kind);
  }

  #call<R extends StoreRequest>(request: R): Promise<Results[R['op']]> {
    return this.#connection().call(request) as Promise<Results[R['op']]>;
  }

  /** The request connection, a new one if the last one was lost. */
  #connection(): RequestConnection {
    if (this.#requests === undefined || !this.#requests.usable) {
      this.#requests = new RequestConnection(this.address, this.connectTimeoutMs);
    }
    return this.#requests;
  }
}

/** Events off the wire, frozen like the memory store's. */
function freezeAll(events: RecordedEvent[]): readonly RecordedEvent[] {
  for (const event of events) Object.freeze(event);
  return events;
}

function codeOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'ECONNRESET';
}

/**
 * Opens a TCP connection with Nagle's algorithm off that reads text. `onLost` is called
 * (maybe more than once) when the connection fails, times out opening, or is closed by
 * the peer; it must destroy the socket.
 */
function openSocket(address: EventStoreAddress, connectTimeoutMs: number, onLost: (code: string, cause?: Error) => void): Socket {
  const socket = connect({ host: address.host, port: address.port });
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  const timer = setTimeout(() => onLost('ETIMEDOUT'), connectTimeoutMs);
  socket.once('connect', () => clearTimeout(timer));
  socket.on('error', (err) => onLost(codeOf(err), err));
  socket.on('end', () => onLost('ECONNCLOSED'));
  socket.once('close', () => {
    clearTimeout(timer);
    onLost('ECONNCLOSED');
  });
  return socket;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The pipelined request connection: frames out, responses matched back by id. */
class RequestConnection {
  /** Resolves once the socket is open; rejects if it is lost first. */
  readonly connected: Promise<void>;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #pending = new Map<number, Pending>();
  #lost: Error | undefined;
  #rejectConnected!: (err: Error) => void;

  constructor(address: EventStoreAddress, connectTimeoutMs: number) {
    const socket = openSocket(address, connectTimeoutMs, (code, cause) => {
      this.#lose(new EventStoreConnectionError(address, code, cause === undefined ? undefined : { cause }));
    });
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.connected = new Promise((resolve, reject) => {
      this.#rejectConnected = reject;
      socket.once('connect', () => resolve());
    });
    this.connected.catch(() => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    const reader = new FrameReader((frame) => this.#onFrame(frame as ServerFrame));
    socket.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.#lose(new EventStoreConnectionError(address, 'EPROTO', { cause: err }));
      }
    });
  }

  /** False once the connection is lost or shut down: the next request needs a new one. */
  get usable(): boolean {
    return this.#lost === undefined;
  }

  call(request: StoreRequest): Promise<unknown> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      this.#writer.send(JSON.stringify(request));
    });
  }

  /** Rejects every request in flight with `error` and closes the socket; resolves once it has closed. */
  shutdown(error: Error): Promise<void> {
    this.#lose(error);
    return this.closed;
  }

  #onFrame(frame: ServerFrame): void {
    const pending = frame.id === undefined ? undefined : this.#pending.get(frame.id);
    if (pending === undefined) return;
    this.#pending.delete(frame.id as number);
    if (frame.error !== undefined) pending.reject(fromWireError(frame.error));
    else pending.resolve(frame.ok);
  }

  #lose(error: Error): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    this.#rejectConnected(error);
    this.#socket.destroy();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** Marks the place in the delivery queue where the server said the subscription had caught up. */
const CAUGHT_UP: unique symbol = Symbol('caught up');

/**
 * A subscription on its own connection. Events are queued as they arrive and handed to
 * the handler one at a time; the socket is paused while the queue is long, so a slow
 * handler backs up into TCP and the server (which waits for 'drain') instead of memory.
 * A lost connection ends the subscription with its error once the running handler is
 * done; resubscribing from `checkpoint` then delivers what was queued but not handled.
 */
class RemoteSubscription implements Subscription {
  readonly caughtUp: Promise<void>;
  readonly done: Promise<void>;
  #checkpoint: number;
  readonly #socket: Socket;
  readonly #queue = new Deque<RecordedEvent | typeof CAUGHT_UP>();
  #paused = false;
  #pumping = false;
  #socketClosed = false;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;
  #settled = false;
  #resolveDone!: () => void;
  #rejectDone!: (err: unknown) => void;
  #resolveCaughtUp!: () => void;
  #rejectCaughtUp!: (err: unknown) => void;

  constructor(
    address: EventStoreAddress,
    connectTimeoutMs: number,
    request: SubscribeRequest,
    private readonly handler: EventHandler,
    private readonly release: (sub: RemoteSubscription) => void,
  ) {
    this.#checkpoint = request.afterPosition;
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.caughtUp = new Promise((resolve, reject) => {
      this.#resolveCaughtUp = resolve;
      this.#rejectCaughtUp = reject;
    });
    // Observed here so that a subscription nobody awaits cannot crash the process.
    this.done.catch(() => {});
    this.caughtUp.catch(() => {});
    const socket = openSocket(address, connectTimeoutMs, (code, cause) => {
      this.#end({ error: new EventStoreConnectionError(address, code, cause === undefined ? undefined : { cause }) });
    });
    this.#socket = socket;
    socket.once('close', () => {
      this.#socketClosed = true;
      this.#settle();
    });
    const reader = new FrameReader((frame) => this.#onFrame(frame as ServerFrame));
    socket.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.#end({ error: new EventStoreConnectionError(address, 'EPROTO', { cause: err }) });
      }
      if (!this.#pumping) void this.#pump();
      // Checked after the pump has run what it could synchronously: with a synchronous
      // handler the queue is already empty, and pausing would only cost a resume.
      if (!this.#paused && !this.#ended && this.#queue.length > QUEUE_HIGH_WATER) {
        this.#paused = true;
        socket.pause();
      }
    });
    socket.write(JSON.stringify(request) + '\n');
  }

  get checkpoint(): number {
    return this.#checkpoint;
  }

  async stop(): Promise<void> {
    this.#end(undefined);
    await this.done.catch(() => {});
  }

  #onFrame(frame: ServerFrame): void {
    if (this.#ended) return;
    if (frame.event !== undefined) this.#queue.push(frame.event);
    else if (frame.caughtUp === true) this.#queue.push(CAUGHT_UP);
    else if (frame.error !== undefined) this.#end({ error: fromWireError(frame.error) });
  }

  /** Hands queued events to the handler in order, awaiting each returned promise. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const queue = this.#queue;
    const handler = this.handler;
    try {
      while (!this.#ended) {
        const item = queue.shift();
        if (item === undefined) break;
        if (this.#paused && queue.length <= QUEUE_LOW_WATER) {
          this.#paused = false;
          this.#socket.resume();
        }
        if (item === CAUGHT_UP) {
          this.#resolveCaughtUp();
          continue;
        }
        const pending = handler(Object.freeze(item));
        if (pending !== undefined) await pending;
        this.#checkpoint = item.position;
      }
    } catch (error) {
      // A handler's error ends the subscription as a failure even after stop().
      this.#failure ??= { error };
      this.#end(this.#failure);
    } finally {
      this.#pumping = false;
    }
    this.#settle();
  }

  /** Ends delivery: `failure` undefined for stop(), else why. The first call wins. */
  #end(failure: { readonly error: unknown } | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = failure;
    this.#queue.clear();
    this.#socket.destroy();
    this.#settle();
  }

  /** Settles `done` once delivery has ended, no handler is running and the socket has closed. */
  #settle(): void {
    if (this.#settled || !this.#ended || this.#pumping || !this.#socketClosed) return;
    this.#settled = true;
    this.release(this);
    if (this.#failure === undefined) {
      this.#resolveCaughtUp();
      this.#resolveDone();
    } else {
      this.#rejectCaughtUp(this.#failure.error);
      this.#rejectDone(this.#failure.error);
    }
  }
}
