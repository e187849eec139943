/**
 * calls.ts `unary`: a call started on the client's channel (Channel.createCall), not through
 * Client.makeUnaryRequest. What a caller sees must stay what grpc-js's client gives: the
 * reply, or a ServiceError `<code> <NAME>: <details>` with the status's code, details and
 * metadata; the deadline; codec failures as INTERNAL; a `traceparent` only when traced.
 */
import { Metadata, Server, ServerCredentials, status, type Client, type MethodDefinition, type ServiceError, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, unary } from '../src/patterns/grpc/calls.js';
import { tracer, traceparent } from '../src/tracing/index.js';
import { startRecording, stopRecording } from '../src/tracing/recorder.js';

/** A method of strings as UTF-8 bytes; `name` picks the server's behaviour. */
const method = (name: string, requestSerialize: (s: string) => Buffer = (s) => Buffer.from(s), responseDeserialize: (b: Buffer) => string = (b) => b.toString()): MethodDefinition<string, string> => ({
  path: `/test.Unary/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize,
  requestDeserialize: (b) => b.toString(),
  responseSerialize: (s) => Buffer.from(s),
  responseDeserialize,
  originalName: name,
});

const ECHO = method('Echo');
const REFUSE = method('Refuse');
const HANG = method('Hang');
const TRACEPARENT = method('Traceparent');

describe('unary on the channel', () => {
  let server: Server;
  let client: Client;
  const hanging: sendUnaryData<string>[] = [];

  beforeAll(async () => {
    server = new Server();
    server.addService(
      { Echo: ECHO, Refuse: REFUSE, Hang: HANG, Traceparent: TRACEPARENT },
      {
        Echo: (call: ServerUnaryCall<string, string>, reply: sendUnaryData<string>) => reply(null, `echo ${call.request}`),
        Refuse: (_call: ServerUnaryCall<string, string>, reply: sendUnaryData<string>) => {
          const trailers = new Metadata();
          trailers.set('why', 'no stock');
          reply({ code: status.FAILED_PRECONDITION, details: 'out_of_stock', metadata: trailers });
        },
        Hang: (_call: ServerUnaryCall<string, string>, reply: sendUnaryData<string>) => void hanging.push(reply),
        Traceparent: (call: ServerUnaryCall<string, string>, reply: sendUnaryData<string>) => reply(null, String(call.metadata.get('traceparent')[0] ?? 'none')),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = createClient({ host: '127.0.0.1', port }, {});
  });
  afterAll(() => {
    client.close();
    for (const reply of hanging) reply(null, 'late');
    server.forceShutdown();
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: ServiceError) => err,
    );

  it('resolves with the deserialized reply', async () => {
    expect(await unary(client, ECHO, 'hi', 5000)).toBe('echo hi');
  });

  it('rejects with a ServiceError as grpc-js builds it: message, code, details and trailers', async () => {
    const err = await failure(unary(client, REFUSE, 'x', 5000));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('9 FAILED_PRECONDITION: out_of_stock');
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('out_of_stock');
    expect(err.metadata.get('why')).toEqual(['no stock']);
  });

  it('fails with DEADLINE_EXCEEDED when the reply does not come within the deadline', async () => {
    const err = await failure(unary(client, HANG, 'x', 50));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    // Whichever deadline fires first: the client's ("Deadline exceeded after 0.050s,name resolution: …")
    // or the server's, from the grpc-timeout header the call carried ("Deadline exceeded").
    expect(err.message).toMatch(/^4 DEADLINE_EXCEEDED: Deadline exceeded( after \d+\.\d{3}s,|$)/);
  });

  it('fails with INTERNAL when the request cannot be serialized', async () => {
    const bad = method('Echo', () => {
      throw new Error('no bytes for you');
    });
    const err = await failure(unary(client, bad, 'x', 5000));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe('Request message serialization failure: no bytes for you');
  });

  it('fails with INTERNAL when the reply cannot be deserialized', async () => {
    const bad = method('Echo', undefined, () => {
      throw new Error('garbled');
    });
    const err = await failure(unary(client, bad, 'x', 5000));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe('Response message parsing error: garbled');
  });

  it('carries no traceparent when nothing is traced, and the active span\'s when something is', async () => {
    expect(await unary(client, TRACEPARENT, 'x', 5000)).toBe('none');
    startRecording();
    try {
      const root = tracer().startSpan('client: test');
      const [sent, seen] = await context.with(trace.setSpan(context.active(), root), async () => [traceparent(), await unary(client, TRACEPARENT, 'x', 5000)]);
      root.end();
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(seen).toBe(sent);
    } finally {
      await stopRecording();
    }
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
