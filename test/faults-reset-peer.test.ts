import { describe, expect, it, vi } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, outcome, readBytes, until, useFakeClock } from './faults-support.js';

describe('reset_peer fault', () => {
  const f = echoProxyFixture();
  const clock = useFakeClock();

  it('passes data until timeoutMs, then the client sees ECONNRESET', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 100 }));
    const client = await dial(f.proxy.address);
    const ended = outcome(client);
    client.write('before');
    // Through the proxy and back: it took the connection, at clock 0.
    expect((await readBytes(client, 6)).data.toString()).toBe('before');
    await clock.advance(99);
    expect(f.proxy.stats().resets).toBe(0);
    client.write('still');
    expect((await readBytes(client, 5)).data.toString()).toBe('still');
    await clock.advance(1);
    expect(f.proxy.stats().resets).toBe(1);
    expect((await ended).how).toBe('ECONNRESET');
  });

  it('resets at once by default, and the server end is reset too', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer' }));
    const client = await dial(f.proxy.address);
    const ended = outcome(client);
    await until(() => f.proxy.stats().connections === 1);
    await clock.advance(0); // "at once": the clock does not move
    expect(f.proxy.stats().resets).toBe(1);
    expect((await ended).how).toBe('ECONNRESET');
    await until(() => f.proxy.stats().open === 0);
    expect(f.proxy.stats()).toMatchObject({ connections: 1, faulted: 1, resets: 1 });
  });

  it('does nothing when removed before it fires', async () => {
    f.proxy.addToxic(createToxic({ type: 'reset_peer', timeoutMs: 150, name: 'later' }));
    const client = await dial(f.proxy.address);
    await until(() => vi.getTimerCount() === 1); // the proxy took the connection: the reset is armed
    f.proxy.removeToxic('later');
    expect(vi.getTimerCount()).toBe(0);
    await clock.advance(250);
    client.write('alive');
    expect((await readBytes(client, 5)).data.toString()).toBe('alive');
    expect(f.proxy.stats().resets).toBe(0);
    client.destroy();
  });
});
