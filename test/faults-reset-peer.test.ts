import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, outcome, readBytes, startEcho, until, startProxy, type TestServer } from './faults-support.js';

describe('reset_peer fault', () => {
  let echo: TestServer;
  let proxy: FaultProxy;
  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startProxy(echo.address);
  });
  afterEach(async () => {
    await proxy.close();
    await echo.close();
  });

  it('passes data until timeoutMs, then the client sees ECONNRESET', async () => {
    proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 100 }));
    const client = await dial(proxy.address);
    client.write('before');
    expect((await readBytes(client, 6)).data.toString()).toBe('before');
    const { how, ms } = await outcome(client);
    expect(how).toBe('ECONNRESET');
    expect(ms).toBeLessThan(200);
    expect(proxy.stats().resets).toBe(1);
  });

  it('resets at once by default, and the server end is reset too', async () => {
    proxy.addToxic(createToxic({ type: 'reset_peer' }));
    const client = await dial(proxy.address);
    const { how, ms } = await outcome(client);
    expect(how).toBe('ECONNRESET');
    expect(ms).toBeLessThan(100);
    await until(() => proxy.stats().open === 0);
    expect(proxy.stats()).toMatchObject({ connections: 1, faulted: 1, resets: 1 });
  });

  it('does nothing when removed before it fires', async () => {
    proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 150, name: 'later' }));
    const client = await dial(proxy.address);
    proxy.removeToxic('later');
    await new Promise((r) => setTimeout(r, 250));
    client.write('alive');
    expect((await readBytes(client, 5)).data.toString()).toBe('alive');
    expect(proxy.stats().resets).toBe(0);
    client.destroy();
  });
});
