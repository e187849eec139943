/**
 * The event store wire protocol ("pbes"): newline-delimited JSON frames over TCP.
 * JSON.stringify never emits a raw newline, so a newline always ends a frame.
 *
 * Request connection (pipelined; responses carry the request's id and may come back in
 * any order):
 *   client → `{"id":7,"op":"append","stream":…,"events":[…],"expectedVersion":0}`
 *            (also readStream, readAll, saveSnapshot, loadSnapshot with the method's arguments)
 *   server → `{"id":7,"ok":<result>}` (no `ok` for a void or undefined result)
 *          | `{"id":7,"error":{"name":…,"message":…,…fields}}`
 * Subscription connection (one subscription per connection):
 *   client → `{"id":1,"op":"subscribe","afterPosition":0,"batchSize":500}`
 *   server → `{"event":<RecordedEvent>}`… in position order, `{"caughtUp":true}` once,
 *            `{"error":{…}}` before closing if the server-side subscription failed.
 */
import type { Socket } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { EventStoreClosedError, WrongExpectedVersionError } from './errors.js';
import type { AppendResult, ExpectedVersion, JsonObject, NewEvent, RecordedEvent, Snapshot } from './types.js';

/** Where an event store server listens. */
export interface EventStoreAddress {
  readonly host: string;
  readonly port: number;
}

/** A frame a client sends; `id` is unique among the connection's requests in flight. */
export type Request =
  | { id: number; op: 'append'; stream: string; events: readonly NewEvent[]; expectedVersion: ExpectedVersion }
  | { id: number; op: 'readStream'; stream: string; afterVersion: number }
  | { id: number; op: 'readAll'; afterPosition: number; limit: number }
  | { id: number; op: 'head' }
  | { id: number; op: 'saveSnapshot'; stream: string; version: number; state: JsonObject }
  | { id: number; op: 'loadSnapshot'; stream: string }
  | { id: number; op: 'subscribe'; afterPosition: number; batchSize: number };

/** The first and only frame a client sends on a subscription connection. */
export type SubscribeRequest = Extract<Request, { op: 'subscribe' }>;

/** A request other than `subscribe`: one call of a store method. */
export type StoreRequest = Exclude<Request, { op: 'subscribe' }>;

/** What each request op resolves with. */
export interface Results {
  append: AppendResult;
  readStream: RecordedEvent[];
  readAll: RecordedEvent[];
  head: number;
  saveSnapshot: undefined;
  loadSnapshot: Snapshot | undefined;
}

/** An error as it travels: name, message and the error's own scalar fields (code, stream, …). */
export interface WireError {
  name: string;
  message: string;
  [field: string]: string | number | boolean | null;
}

/** A frame the server sends, on either kind of connection. */
export interface ServerFrame {
  id?: number;
  ok?: unknown;
  error?: WireError;
  event?: RecordedEvent;
  caughtUp?: true;
}

const SCHEME = 'pbes:';
/** Longest frame accepted, in UTF-16 code units: a guard against a peer that never sends a newline. */
const MAX_FRAME_CHARS = 64 * 1024 * 1024;
/** Buffered output is written at once when it reaches this many code units, else at the end of the tick. */
const FLUSH_CHARS = 64 * 1024;

/** Sent once on a subscription connection, after the events the subscription caught up with. */
export const CAUGHT_UP_FRAME = '{"caughtUp":true}';

/** `pbes://127.0.0.1:PORT` for an address. */
export function formatEventStoreUrl(address: EventStoreAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `pbes://${host}:${address.port}`;
}

/**
 * The address in a `pbes://host:port` URL.
 * @throws InvalidOptionError (option `option`, default `--event-store`) for anything else.
 */
export function parseEventStoreUrl(url: string, option = '--event-store'): EventStoreAddress {
  const invalid = () => new InvalidOptionError(option, url, 'pbes://host:port');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid();
  }
  const port = Number(parsed.port);
  if (parsed.protocol !== SCHEME || parsed.hostname === '' || parsed.port === '' || !(port > 0)) throw invalid();
  if ((parsed.pathname !== '' && parsed.pathname !== '/') || parsed.search !== '' || parsed.hash !== '' || parsed.username !== '') {
    throw invalid();
  }
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** A response frame. Built by concatenation: no wrapper object per frame. */
export function encodeResult(id: number, result: unknown): string {
  return result === undefined ? `{"id":${id}}` : `{"id":${id},"ok":${JSON.stringify(result)}}`;
}

/** A response frame for a request that failed. */
export function encodeErrorResponse(id: number, err: unknown): string {
  return `{"id":${id},"error":${JSON.stringify(toWireError(err))}}`;
}

/** A subscription's event frame. */
export function encodeEvent(event: RecordedEvent): string {
  return `{"event":${JSON.stringify(event)}}`;
}

/** The frame that tells a subscriber why its subscription failed, before the connection closes. */
export function encodeSubscriptionError(err: unknown): string {
  return `{"error":${JSON.stringify(toWireError(err))}}`;
}

/** Name, message and every own scalar field of `err` (`code`, `stream`, `expected`, `actual`, `kind`…). */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const wire: WireError = { name: err.name, message: err.message };
  for (const [key, value] of Object.entries(err)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') wire[key] = value;
  }
  return wire;
}

/** Rebuilds an error into the class it was thrown as, where the client knows that class. */
export function fromWireError(wire: WireError): Error {
  switch (wire.name) {
    case 'WrongExpectedVersionError':
      return new WrongExpectedVersionError(String(wire.stream), wire.expected as ExpectedVersion, Number(wire.actual));
    case 'EventStoreClosedError':
      return new EventStoreClosedError(String(wire.kind));
    case 'RangeError':
      return new RangeError(wire.message);
    case 'TypeError':
      return new TypeError(wire.message);
    default:
      return Object.assign(new Error(wire.message), wire);
  }
}

/**
 * Splits text into frames and parses them. Only the chunk that completes a frame is
 * searched for its newline, so a frame spanning many chunks costs linear time.
 */
export class FrameReader {
  #rest = '';

  constructor(private readonly onFrame: (frame: unknown) => void) {}

  /** @throws SyntaxError for a frame that is not JSON, RangeError for one over 64 Mi characters. */
  push(chunk: string): void {
    let end = chunk.indexOf('\n');
    if (end === -1) {
      this.#rest += chunk;
      if (this.#rest.length > MAX_FRAME_CHARS) throw new RangeError(`frame longer than ${MAX_FRAME_CHARS} characters`);
      return;
    }
    let start = 0;
    if (this.#rest !== '') {
      const line = this.#rest + chunk.slice(0, end);
      this.#rest = '';
      this.onFrame(JSON.parse(line));
      start = end + 1;
      end = chunk.indexOf('\n', start);
    }
    while (end !== -1) {
      this.onFrame(JSON.parse(chunk.slice(start, end)));
      start = end + 1;
      end = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) this.#rest = chunk.slice(start);
  }
}

/**
 * Buffers frames and writes them with one `socket.write` per tick (or sooner, once 64 Ki
 * characters are waiting), so that a burst of responses or events costs one syscall.
 */
export class FrameWriter {
  #buffered = '';
  #scheduled = false;
  #drain: Promise<void> | undefined;
  readonly #flushTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(private readonly socket: Socket) {}

  /** Queues one frame (a JSON text, without its newline). */
  send(frame: string): void {
    this.#buffered += frame + '\n';
    if (this.#buffered.length >= FLUSH_CHARS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushTick);
    }
  }

  /** Writes what is buffered now. Output to a socket that was ended or destroyed is dropped. */
  flush(): void {
    if (this.#buffered === '') return;
    const data = this.#buffered;
    this.#buffered = '';
    if (this.socket.writable) this.socket.write(data);
  }

  /** The socket's send buffer is over its high-water mark: the sender should wait for `drained()`. */
  get blocked(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Resolves on the socket's next 'drain', or when it closes (nothing will drain then). */
  drained(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    this.#drain ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        this.#drain = undefined;
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    return this.#drain;
  }
}
