import { Client, credentials, Metadata, status, type ChannelOptions, type ClientReadableStream, type MethodDefinition, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { Context } from '@opentelemetry/api';
import { extractTrace, traceparent } from '../../tracing/index.js';
import type { Address } from '../types.js';

/** A client channel to one service, with its own subchannel (closed by `close()`). */
export function createClient(address: Address, options: ChannelOptions): Client {
  return new Client(`${address.host}:${address.port}`, credentials.createInsecure(), {
    ...options,
    // Not shared with other clients to the same address: stop() closes exactly what it opened.
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** Metadata with the active span's `traceparent` when a traced order is being worked on (else empty). */
export function traceMetadata(): Metadata {
  const metadata = new Metadata();
  const parent = traceparent();
  if (parent !== undefined) metadata.set('traceparent', parent);
  return metadata;
}

/** The `traceparent` a call carries, if any. */
export function traceparentOf(metadata: Metadata): string | undefined {
  const value = metadata.get('traceparent')[0];
  return typeof value === 'string' ? value : undefined;
}

/** The context a received call continues, or undefined when it carries no `traceparent` (not traced). */
export function traceContextOf(metadata: Metadata): Context | undefined {
  const parent = traceparentOf(metadata);
  return parent === undefined ? undefined : extractTrace({ traceparent: parent });
}

/** The traced service a gRPC method belongs to (`/patternbench.v1.PaymentService/Charge` → payments, Charge). */
export function tracedMethod(path: string): { readonly service: string; readonly operation: string } {
  const slash = path.lastIndexOf('/');
  const qualified = path.slice(1, slash);
  const name = qualified.slice(qualified.lastIndexOf('.') + 1);
  return { service: GRPC_SERVICES[name] ?? name, operation: path.slice(slash + 1) };
}

const GRPC_SERVICES: Readonly<Record<string, string>> = {
  OrderService: 'orders',
  InventoryService: 'inventory',
  PaymentService: 'payments',
  NotificationService: 'notifications',
};

/**
 * A typed unary call with a deadline of `timeoutMs` from now, started on the client's
 * channel (`Channel.createCall`, grpc-js's public call API) rather than through
 * `Client.makeUnaryRequest`: that wraps every call in an interceptor chain and an event
 * emitter and captures a stack trace (`new Error()`) per call, for interceptors and call
 * objects nothing here uses: work per call that this path skips (not measured apart:
 * bench:transport times the calls as made here, not against makeUnaryRequest). Same channel, same wire, same deadline; errors
 * are ServiceErrors as grpc-js builds them (`14 UNAVAILABLE: …`).
 */
export function unary<Req, Res>(client: Client, method: MethodDefinition<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const call = client.getChannel().createCall(method.path, Date.now() + timeoutMs, null, null, null);
    let reply: Res | undefined;
    let failure: StatusObject | undefined;
    call.start(traceMetadata(), {
      onReceiveMetadata: ignore,
      onReceiveMessage: (message: Buffer) => {
        if (reply !== undefined) return call.cancelWithStatus(status.UNIMPLEMENTED, 'Too many responses received');
        try {
          reply = method.responseDeserialize(message);
        } catch (err) {
          failure = { code: status.INTERNAL, details: `Response message parsing error: ${messageOf(err)}`, metadata: new Metadata() };
          call.cancelWithStatus(failure.code, failure.details);
        }
      },
      onReceiveStatus: (received: StatusObject) => {
        const final = failure ?? received;
        if (final.code !== status.OK) reject(callError(final));
        else if (reply === undefined) reject(callError({ code: status.UNIMPLEMENTED, details: 'No message received', metadata: final.metadata }));
        else resolve(reply);
      },
    });
    let bytes: Buffer;
    try {
      bytes = method.requestSerialize(request);
    } catch (err) {
      return call.cancelWithStatus(status.INTERNAL, `Request message serialization failure: ${messageOf(err)}`);
    }
    call.sendMessageWithContext({}, bytes);
    call.halfClose();
    call.startRead();
  });
}

const ignore = (): void => undefined;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A failed call's error, as grpc-js's client builds it: `<code> <NAME>: <details>`, with the status's fields. */
function callError(s: StatusObject): ServiceError {
  return Object.assign(new Error(`${s.code} ${status[s.code]}: ${s.details}`), s);
}

/** A typed server-streaming call with a deadline of `timeoutMs` from now. */
export function serverStream<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  timeoutMs: number,
): ClientReadableStream<Res> {
  return client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, traceMetadata(), {
    deadline: Date.now() + timeoutMs,
  });
}

/** A gRPC error with its status; `details` is the message the peer sent. */
export function grpcError(code: status, details: string): Partial<ServiceError> {
  return { code, details, message: details };
}

/** The status name of a gRPC error (`DEADLINE_EXCEEDED`), or the error's code or name. */
export function statusName(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return status[code] ?? `STATUS_${code}`;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'unknown';
}

export function isStatus(err: unknown, code: status): err is ServiceError {
  return (err as { code?: unknown } | null)?.code === code;
}
