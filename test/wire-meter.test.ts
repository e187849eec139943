import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { meterHttpServer } from '../src/wire/http.js';
import { publishWireStats, readWireStats, SHARED_WIRE_BYTES, WireMeter } from '../src/wire/meter.js';

describe('WireMeter', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('counts every byte read and written at the server sockets, live and after close', async () => {
    const meter = new WireMeter();
    const server = createServer((socket) => socket.pipe(socket)); // echo
    meter.meterServer(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const client = connect(port, '127.0.0.1');
    client.write(Buffer.alloc(1000, 1));
    let echoed = 0;
    await new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        echoed += chunk.length;
        if (echoed === 1000) resolve();
      }),
    );
    expect(meter.stats().bytes).toBe(2000); // 1000 in, 1000 out, counted once each
    client.end(Buffer.alloc(24, 2));
    await once(client, 'close');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(meter.stats().bytes).toBe(2048);
  });

  it('counts application messages', () => {
    const meter = new WireMeter();
    meter.countMessages(2);
    meter.countMessages();
    expect(meter.stats()).toEqual({ bytes: 0, messages: 3 });
  });

  it('meterHttpServer counts each parsed request and each written response: 3 requests pipelined in one write count 6, bytes as at the socket', async () => {
    const meter = new WireMeter();
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    });
    meterHttpServer(meter, server);
    const accepted: Socket[] = [];
    server.on('connection', (socket: Socket) => accepted.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const client = connect(port, '127.0.0.1');
    const request = 'GET / HTTP/1.1\r\nHost: test\r\n\r\n';
    client.write(request.repeat(3)); // one chunk on the wire, three messages in it
    let received = '';
    await new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.split('HTTP/1.1 200 OK').length - 1 === 3 && received.endsWith('ok')) resolve();
      }),
    );
    client.end();
    await Promise.all(accepted.map((s) => (s.closed ? undefined : once(s, 'close'))));
    expect(accepted).toHaveLength(1);
    expect(meter.stats()).toEqual({ bytes: 3 * request.length + Buffer.byteLength(received), messages: 6 });
  });

  it('hands stats to another thread through a shared buffer', () => {
    const buffer = new SharedArrayBuffer(SHARED_WIRE_BYTES);
    expect(readWireStats(buffer)).toEqual({ bytes: 0, messages: 0 });
    publishWireStats(buffer, { bytes: 123_456_789_012, messages: 42 });
    expect(readWireStats(buffer)).toEqual({ bytes: 123_456_789_012, messages: 42 });
  });
});
