import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, outcome, readBytes, until } from './faults-support.js';

describe('reset_peer fault', () => {
  const f = echoProxyFixture();

  it('passes data until timeoutMs, then the client sees ECONNRESET', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 100 }));
    const client = await dial(f.proxy.address);
    client.write('before');
    expect((await readBytes(client, 6)).data.toString()).toBe('before');
    const { how, ms } = await outcome(client);
    expect(how).toBe('ECONNRESET');
    expect(ms).toBeLessThan(200);
    expect(f.proxy.stats().resets).toBe(1);
  });

  it('resets at once by default, and the server end is reset too', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer' }));
    const client = await dial(f.proxy.address);
    const { how, ms } = await outcome(client);
    expect(how).toBe('ECONNRESET');
    expect(ms).toBeLessThan(100);
    await until(() => f.proxy.stats().open === 0);
    expect(f.proxy.stats()).toMatchObject({ connections: 1, faulted: 1, resets: 1 });
  });

  it('does nothing when removed before it fires', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 150, name: 'later' }));
    const client = await dial(f.proxy.address);
    f.proxy.removeToxic('later');
    await new Promise((r) => setTimeout(r, 250));
    client.write('alive');
    expect((await readBytes(client, 5)).data.toString()).toBe('alive');
    expect(f.proxy.stats().resets).toBe(0);
    client.destroy();
  });
});
