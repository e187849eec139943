import { Client, credentials, Metadata, status, type ChannelOptions, type ClientReadableStream, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import type { Address } from '../types.js';

/** A client channel to one service, with its own subchannel (closed by `close()`). */
export function createClient(address: Address, options: ChannelOptions): Client {
  return new Client(`${address.host}:${address.port}`, credentials.createInsecure(), {
    ...options,
    // Not shared with other clients to the same address: stop() closes exactly what it opened.
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** A typed unary call with a deadline of `timeoutMs` from now. */
export function unary<Req, Res>(client: Client, method: MethodDefinition<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, value?: Res) => (err || value === undefined ? reject(err ?? new Error('empty reply')) : resolve(value)),
    );
  });
}

/** A typed server-streaming call with a deadline of `timeoutMs` from now. */
export function serverStream<Req, Res>(
  client: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  timeoutMs: number,
): ClientReadableStream<Res> {
  return client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new Metadata(), {
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
