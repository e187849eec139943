import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, outcome, readBytes, sleep } from './faults-support.js';

describe('timeout fault (black hole)', () => {
  const f = echoProxyFixture();

  it('delivers nothing while active, then everything held, in order, once removed', async () => {
    f.proxy.addToxic(createToxic({ type: 'timeout', timeoutMs: 0 }));
    const client = await dial(f.proxy.address);
    let seen = 0;
    client.on('data', (c: Buffer) => (seen += c.length));
    client.write('one;');
    client.write('two;');
    await sleep(300);
    expect(seen).toBe(0);
    client.removeAllListeners('data');
    client.pause();
    const reading = readBytes(client, 8);
    f.proxy.removeToxic('timeout_downstream');
    const { data, ms } = await reading;
    expect(data.toString()).toBe('one;two;');
    expect(ms).toBeLessThan(100);
    client.destroy();
  });

  it('closes the connection after timeoutMs with no data delivered', async () => {
    f.proxy.addToxic(createToxic({ type: 'timeout', timeoutMs: 200, direction: 'upstream' }));
    const client = await dial(f.proxy.address);
    let seen = 0;
    client.on('data', (c: Buffer) => (seen += c.length));
    const ended = outcome(client);
    client.write('hello');
    const { how, ms } = await ended;
    expect(how).toBe('end');
    expect(ms).toBeGreaterThanOrEqual(180);
    expect(ms).toBeLessThan(300);
    expect(seen).toBe(0);
    expect(f.proxy.stats().closes).toBe(1);
    client.destroy();
  });
});
