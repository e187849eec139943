import { createServer, type Server, type Socket } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { MemoryEventStore } from './memory.js';
import type { EventStore, RecordedEvent, Subscription } from './types.js';
import {
  CAUGHT_UP_FRAME,
  encodeErrorResponse,
  encodeEvent,
  encodeResult,
  encodeSubscriptionError,
  formatEventStoreUrl,
  FrameReader,
  FrameWriter,
  type EventStoreAddress,
  type Request,
  type StoreRequest,
} from './wire.js';

/** Options of {@link startEventStoreServer}; every field is optional. */
export interface EventStoreServerOptions {
  /** The store to serve. Default: a new MemoryEventStore, which `close()` closes; a store passed in is left open. */
  readonly store?: EventStore;
  /** TCP port. Default 0 (ephemeral). */
  readonly port?: number;
  /** Address to listen on. Default 127.0.0.1 (the threads and children of a run); `pattern-bench serve --service event-store` gives its --host. */
  readonly host?: string;
  /** Called with every accepted socket before it is read, e.g. to meter its bytes. */
  readonly onConnection?: (socket: Socket) => void;
  /** Called for every frame read or written (a request, a response, an event pushed): the wire's message count. */
  readonly onMessages?: (n: number) => void;
}

/** An event store served over TCP (see wire.ts for the protocol); `connectEventStore(url)` talks to it. */
export interface EventStoreServer {
  /** 127.0.0.1 unless `host` said otherwise. */
  readonly address: EventStoreAddress;
  /** `pbes://127.0.0.1:PORT`. */
  readonly url: string;
  /** Closes every connection and the listening socket, stopping server-side subscriptions. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Starts serving an event store (on 127.0.0.1 by default); resolves once it is listening. */
export async function startEventStoreServer(options: EventStoreServerOptions = {}): Promise<EventStoreServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError('port', port, 'an integer from 0 to 65535');
  const owned = options.store === undefined;
  const store = options.store ?? new MemoryEventStore();
  const peers = new Set<Peer>();
  const server = createServer((socket) => {
    options.onConnection?.(socket);
    const peer = new Peer(socket, store, options.onMessages ?? (() => {}));
    peers.add(peer);
    void peer.closed.then(() => peers.delete(peer));
  });
  const host = options.host ?? HOST;
  await listen(server, host, port);
  const address = { host, port: (server.address() as { port: number }).port };
  let closing: Promise<void> | undefined;
  return {
    address,
    url: formatEventStoreUrl(address),
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const peer of peers) peer.destroy();
        await Promise.all([...peers].map((peer) => peer.closed));
        await stopped;
        if (owned) await store.close();
      })();
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function isRequest(frame: unknown): frame is Request {
  if (typeof frame !== 'object' || frame === null) return false;
  const { id, op } = frame as { id?: unknown; op?: unknown };
  return typeof id === 'number' && typeof op === 'string';
}

/**
 * One accepted connection: it answers requests, or feeds the one subscription it asked
 * for. A peer that breaks the protocol (a frame that is not a request) is disconnected.
 */
class Peer {
  /** Resolves once the socket has closed and its subscription, if any, has stopped. */
  readonly closed: Promise<void>;
  readonly #writer: FrameWriter;
  #subscription: Subscription | undefined;
  #gone = false;

  /**
   * A subscription handler: writes the event and, once the socket's send buffer is over
   * its high-water mark, makes the subscription wait for 'drain', so that a slow reader
   * holds the server back instead of making it buffer without bound.
   */
  readonly #onEvent = (event: RecordedEvent): Promise<void> | undefined => {
    this.#send(encodeEvent(event));
    return this.#writer.blocked ? this.#writer.drained() : undefined;
  };

  constructor(
    private readonly socket: Socket,
    private readonly store: EventStore,
    private readonly count: (n: number) => void,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    this.#writer = new FrameWriter(socket);
    const reader = new FrameReader((frame) => this.#onFrame(frame));
    socket.on('data', (chunk: string) => {
      try {
        reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    // Every error is followed by 'close', which is where the connection is cleaned up.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#gone = true;
        resolve(this.#subscription?.stop());
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #send(frame: string): void {
    this.count(1);
    this.#writer.send(frame);
  }

  #onFrame(frame: unknown): void {
    this.count(1);
    if (!isRequest(frame)) {
      this.socket.destroy();
      return;
    }
    if (frame.op === 'subscribe') {
      this.#subscribe(frame.afterPosition, frame.batchSize);
      return;
    }
    const id = frame.id;
    let result: Promise<unknown>;
    try {
      result = this.#dispatch(frame);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => this.#send(encodeResult(id, value)),
      (err: unknown) => this.#send(encodeErrorResponse(id, err)),
    );
  }

  #dispatch(request: StoreRequest): Promise<unknown> {
    const store = this.store;
    switch (request.op) {
      case 'append':
        return store.append(request.stream, request.events, request.expectedVersion);
      case 'readStream':
        return store.readStream(request.stream, request.afterVersion);
      case 'readAll':
        return store.readAll(request.afterPosition, request.limit);
      case 'head':
        return store.head();
      case 'saveSnapshot':
        return store.saveSnapshot(request.stream, request.version, request.state);
      case 'loadSnapshot':
        return store.loadSnapshot(request.stream);
      default:
        return Promise.reject(new TypeError(`unknown op ${JSON.stringify((request as { op: unknown }).op)}`));
    }
  }

  #subscribe(afterPosition: number, batchSize: number): void {
    if (this.#subscription !== undefined) {
      this.#fail(new Error('a connection carries one subscription'));
      return;
    }
    let sub: Subscription;
    try {
      sub = this.store.subscribe(afterPosition, this.#onEvent, { batchSize });
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#subscription = sub;
    // caughtUp also resolves when the subscription is stopped: then there is nobody to tell.
    sub.caughtUp.then(
      () => {
        if (!this.#gone) this.#send(CAUGHT_UP_FRAME);
      },
      () => {},
    );
    // The subscription ends on its own only when the store closes or fails.
    sub.done.then(
      () => this.#end(),
      (err: unknown) => this.#fail(err),
    );
  }

  #fail(err: unknown): void {
    this.#send(encodeSubscriptionError(err));
    this.#end();
  }

  #end(): void {
    if (this.#gone) return;
    this.#writer.flush();
    this.socket.end();
  }
}
