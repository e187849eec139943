import type { Server, ServerResponse } from 'node:http';
import type { WireMeter } from './meter.js';

/**
 * Meter a node:http server: the bytes at every socket it accepts (`WireMeter.meterServer`)
 * and the HTTP/1.1 messages that cross them, counted by node's HTTP layer, not by handlers:
 *
 * - a **request** when node's parser has parsed one off a connection: the server emits
 *   `'request'` once per request message on a socket (each of a keep-alive or pipelined
 *   series), before any handler runs — so a request a handler sheds, refuses or never
 *   answers still counts, and one node never parsed (a malformed head) does not;
 * - a **response** when its last bytes have been handed to the socket: `ServerResponse`
 *   emits `'finish'` from the socket write's callback, and not at all when the connection
 *   died first (node drops writes to a destroyed socket, and skips `'finish'` on a socket
 *   that errored) — a request whose response never crossed counts alone.
 *
 * Not counted: the bare error responses node writes to a socket itself, without a request
 * (`400 Bad Request` for a head it cannot parse, `408` for a request that timed out).
 */
export function meterHttpServer(meter: WireMeter, server: Server): void {
  meter.meterServer(server);
  // Before the server's own handler, so the response is watched before anything can end it.
  server.prependListener('request', (_req, res) => countHttpExchange(meter, res));
}

/** One request, parsed off the socket, and its response once it has been written to it (see meterHttpServer). */
function countHttpExchange(meter: WireMeter, res: ServerResponse): void {
  meter.countMessages(1);
  res.once('finish', () => meter.countMessages(1));
}
