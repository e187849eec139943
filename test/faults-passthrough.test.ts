import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { dial, readBytes, startEcho, startProxy, startServer, until, type TestServer } from './faults-support.js';

describe('proxy with no fault', () => {
  let echo: TestServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    echo = await startEcho();
    proxy = await startProxy(echo.address);
  });
  afterAll(async () => {
    await proxy.close();
    await echo.close();
  });

  it('passes any sequence of chunks unchanged both ways', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 4096 }), { minLength: 1, maxLength: 20 }), async (chunks) => {
        const client = await dial(proxy.address);
        const sent = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        const reading = readBytes(client, sent.length);
        for (const c of chunks) client.write(c);
        const { data } = await reading;
        client.destroy();
        await once(client, 'close');
        return data.equals(sent);
      }),
      { numRuns: 40, seed: 8 },
    );
  });

  it('passes a half-close on and keeps the other direction open', async () => {
    const client = await dial(proxy.address);
    client.end('last words');
    // The echo ends its side after echoing, once it saw our FIN through the proxy.
    const { data } = await readBytes(client, 10);
    expect(data.toString()).toBe('last words');
    await once(client, 'end');
    await once(client, 'close');
  });

  it('counts connections and bytes per direction', async () => {
    const before = proxy.stats();
    const client = await dial(proxy.address);
    client.write('12345');
    await readBytes(client, 5);
    client.destroy();
    const after = proxy.stats();
    expect(after.connections - before.connections).toBe(1);
    expect(after.bytesUpstream - before.bytesUpstream).toBe(5);
    expect(after.bytesDownstream - before.bytesDownstream).toBe(5);
    expect(after.faulted).toBe(0);
  });
});

describe('large transfer through the proxy', () => {
  const SIZE = 20 * 1024 * 1024;
  let server: TestServer;
  let proxy: FaultProxy;
  let serverDigest: Promise<string>;
  beforeAll(async () => {
    let resolve: (d: string) => void = () => {};
    serverDigest = new Promise((r) => (resolve = r));
    // Reads slowly (paused every chunk) so the proxy's backpressure is exercised, then sends 20 MB back.
    server = await startServer((s: Socket) => {
      const hash = createHash('sha256');
      let n = 0;
      s.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
        s.pause();
        setImmediate(() => s.resume());
        if (n === SIZE) {
          resolve(hash.digest('hex'));
          s.end(reply);
        }
      });
    });
    proxy = await startProxy(server.address);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });
  const payload = randomBytes(SIZE);
  const reply = randomBytes(SIZE);

  it('delivers 20 MB each way intact', async () => {
    const client = await dial(proxy.address);
    const down = createHash('sha256');
    let got = 0;
    client.on('data', (c: Buffer) => {
      down.update(c);
      got += c.length;
    });
    const ended = once(client, 'end');
    client.write(payload);
    expect(await serverDigest).toBe(createHash('sha256').update(payload).digest('hex'));
    await ended;
    expect(got).toBe(SIZE);
    expect(down.digest('hex')).toBe(createHash('sha256').update(reply).digest('hex'));
    client.destroy();
    expect(proxy.stats()).toMatchObject({ bytesUpstream: SIZE, bytesDownstream: SIZE });
  });
});

describe('backpressure', () => {
  const SIZE = 48 * 1024 * 1024;
  let server: TestServer;
  let proxy: FaultProxy;
  let serverSocket: Socket | undefined;
  let received = 0;
  beforeAll(async () => {
    server = await startServer((s) => {
      serverSocket = s;
      s.pause(); // a server that does not read
      s.on('data', (c: Buffer) => (received += c.length));
    });
    proxy = await startProxy(server.address);
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('stops reading from the client while the server does not read, and loses nothing', async () => {
    const client = await dial(proxy.address);
    client.write(Buffer.alloc(SIZE, 3));
    await new Promise((r) => setTimeout(r, 500));
    // Only kernel buffers and one high-water mark of bytes may be in flight, not the 48 MB.
    expect(proxy.stats().bytesUpstream).toBeLessThan(SIZE / 2);
    serverSocket?.resume();
    await until(() => received === SIZE);
    expect(proxy.stats().bytesUpstream).toBe(SIZE);
    client.destroy();
  });
});
