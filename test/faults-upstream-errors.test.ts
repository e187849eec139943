import { afterEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { dial, outcome, readBytes, startProxy, startServer, until, type TestServer } from './faults-support.js';

// What the server end does by itself reaches the client as it would without the proxy.
describe('server-side failures pass through the proxy', () => {
  let proxy: FaultProxy | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await proxy?.close();
    await server?.close();
    proxy = undefined;
    server = undefined;
  });

  it('a server that cannot be dialled: the client is reset and the hop counts an upstream error', async () => {
    const gone = await startServer(() => {});
    const address = gone.address;
    await gone.close();
    proxy = await startProxy(address);
    const client = await dial(proxy.address);
    expect((await outcome(client)).how).toBe('ECONNRESET');
    await until(() => proxy?.stats().open === 0);
    expect(proxy.stats()).toMatchObject({ connections: 1, upstreamErrors: 1, resets: 0 });
  });

  it('a server that resets the connection: the client sees ECONNRESET', async () => {
    server = await startServer((s) => s.once('data', () => s.resetAndDestroy()));
    proxy = await startProxy(server.address);
    const client = await dial(proxy.address);
    const ended = outcome(client);
    client.write('boom');
    expect((await ended).how).toBe('ECONNRESET');
  });

  it('a server that answers and closes: the client reads the answer, then the end', async () => {
    server = await startServer((s) => s.once('data', () => s.end('bye')));
    proxy = await startProxy(server.address);
    const client = await dial(proxy.address);
    client.write('hello');
    expect((await readBytes(client, 3)).data.toString()).toBe('bye');
    expect((await outcome(client)).how).toBe('end');
    client.destroy();
  });
});
