import type { Server as NetServer, Socket } from 'node:net';

/** Bytes and messages that crossed a pattern's sockets, counted at the sockets. */
export interface WireStats {
  readonly bytes: number;
  readonly messages: number;
}

/**
 * Counts what crosses a pattern's sockets: bytes read + written, and application messages
 * (an HTTP request or response, a gRPC message in either direction).
 *
 * Bytes are counted at the *server* end of every connection (`socket.bytesRead` +
 * `socket.bytesWritten`): every hop has exactly one server end, so each byte on the wire
 * is counted once, whatever opened the connection. Messages are counted once each as they
 * cross (`countMessages`): at a node:http server's sockets by `meterHttpServer` (http.ts),
 * on a grpc-js server's streams by its interceptor (`countGrpcMessages`, grpc.ts), and by
 * the code that publishes or takes each AMQP message or event-store frame. Plain numbers:
 * the hot path only adds.
 */
export class WireMeter {
  private readonly live = new Set<Socket>();
  /** Bytes of sockets that have closed. */
  private closedBytes = 0;
  private messages = 0;

  /** Meter one accepted socket until it closes. Also disables Nagle's algorithm (DESIGN.md §4). */
  attach(socket: Socket): void {
    socket.setNoDelay(true);
    this.live.add(socket);
    socket.once('close', () => {
      this.live.delete(socket);
      this.closedBytes += socket.bytesRead + socket.bytesWritten;
    });
  }

  /** Meter every connection `server` accepts (a net, http or http2 server). */
  meterServer(server: NetServer): void {
    server.on('connection', (socket: Socket) => this.attach(socket));
  }

  /** Count `n` application messages (default 1). */
  countMessages(n = 1): void {
    this.messages += n;
  }

  /** Cumulative since the meter was created. */
  stats(): WireStats {
    let bytes = this.closedBytes;
    for (const socket of this.live) bytes += socket.bytesRead + socket.bytesWritten;
    return { bytes, messages: this.messages };
  }
}

/** Two float64 slots (bytes, messages) that a worker thread writes and the main thread reads. */
export const SHARED_WIRE_BYTES = 16;

/** Publish `stats` into a shared buffer made with `new SharedArrayBuffer(SHARED_WIRE_BYTES)`. */
export function publishWireStats(buffer: SharedArrayBuffer, stats: WireStats): void {
  const view = new Float64Array(buffer);
  view[0] = stats.bytes;
  view[1] = stats.messages;
}

/** Read what the other thread last published. */
export function readWireStats(buffer: SharedArrayBuffer): WireStats {
  const view = new Float64Array(buffer);
  return { bytes: view[0] ?? 0, messages: view[1] ?? 0 };
}
