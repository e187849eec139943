import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, outcome, readBytes, sleep, tap, until, useFakeClock } from './faults-support.js';

describe('timeout fault (black hole)', () => {
  const f = echoProxyFixture();
  const clock = useFakeClock();

  it('delivers nothing while active, then everything held, in order, once removed', async () => {
    const hole = tap(createToxic({ type: 'timeout', timeoutMs: 0 }));
    f.proxy.addToxic(hole.toxic);
    const client = await dial(f.proxy.address);
    let seen = 0;
    client.on('data', (c: Buffer) => (seen += c.length));
    client.write('one;');
    client.write('two;');
    await until(() => hole.bytesIn() === 8); // the echo is back, in the hole
    await clock.advance(10 * 60_000);
    await sleep(20); // real time for anything delivered to reach the client
    expect(f.proxy.stats().bytesDownstream).toBe(0);
    expect(seen).toBe(0);
    client.removeAllListeners('data');
    client.pause();
    const reading = readBytes(client, 8);
    f.proxy.removeToxic('timeout_downstream');
    expect(f.proxy.stats().bytesDownstream).toBe(8); // handed on within the call
    expect((await reading).data.toString()).toBe('one;two;');
    client.destroy();
  });

  it('closes the connection after timeoutMs with no data delivered', async () => {
    const hole = tap(createToxic({ type: 'timeout', timeoutMs: 200, direction: 'upstream' }));
    f.proxy.addToxic(hole.toxic);
    const client = await dial(f.proxy.address);
    let seen = 0;
    client.on('data', (c: Buffer) => (seen += c.length));
    const ended = outcome(client);
    client.write('hello');
    await until(() => hole.bytesIn() === 5); // the proxy took the connection at clock 0, and holds the bytes
    await clock.advance(199);
    expect(f.proxy.stats().closes).toBe(0);
    await clock.advance(1);
    expect(f.proxy.stats().closes).toBe(1);
    expect((await ended).how).toBe('end');
    expect(seen).toBe(0);
    expect(f.proxy.stats().bytesUpstream).toBe(0);
    client.destroy();
  });
});
