import { ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';
import type { WireMeter } from './meter.js';

/**
 * A grpc-js server interceptor that counts the gRPC messages crossing each call's HTTP/2
 * stream — the length-prefixed messages its DATA frames carry, in both directions — where
 * grpc-js itself reads and writes them (the call under every handler):
 *
 * - a **request** message once grpc-js has read all of its bytes off the stream and decoded
 *   it, before a handler sees it (one that does not decode is answered INTERNAL by grpc-js
 *   and not counted);
 * - a **response** message once its write to the stream has completed (grpc-js calls back
 *   from the HTTP/2 stream's write); a message produced after the call was cancelled —
 *   deadline, RST_STREAM, connection gone — is never written and never counted.
 *
 * A status is trailers (HEADERS), not a message: a call that fails with a status and sends no
 * message counts its request alone; a unary call that completes counts two, as an HTTP/1.1
 * exchange does.
 */
export function countGrpcMessages(meter: WireMeter): ServerInterceptor {
  return (_method, call) => new CountingCall(call, meter);
}

/** The call `next`, with the messages it hands up and the ones it has written counted. */
class CountingCall extends ServerInterceptingCall {
  constructor(
    next: ServerInterceptingCallInterface,
    private readonly meter: WireMeter,
  ) {
    super(next, {
      start: (start) =>
        start({
          onReceiveMessage: (message: unknown, pass) => {
            meter.countMessages(1);
            pass(message);
          },
        }),
    });
  }

  override sendMessage(message: unknown, callback: () => void): void {
    super.sendMessage(message, () => {
      this.meter.countMessages(1);
      callback();
    });
  }
}
