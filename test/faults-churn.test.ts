import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic, type FaultSpec } from '../src/faults/toxics/registry.js';
import { seededRandom } from '../src/random.js';
import { dial, sleep, startEcho, startProxy, until, type TestServer } from './faults-support.js';

// Faults that delay, slice, throttle or hold data are added and removed while bytes stream
// both ways: whatever the faults do in between, every byte arrives once, in order.
describe('adding and removing faults mid-stream', () => {
  let echo: TestServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    echo = await startEcho();
    proxy = await startProxy(echo.address, 5);
  });
  afterAll(async () => {
    await proxy.close();
    await echo.close();
  });

  const faults: FaultSpec[] = [
    { type: 'latency', latencyMs: 15, jitterMs: 10, direction: 'downstream' },
    { type: 'latency', latencyMs: 5, direction: 'upstream' },
    { type: 'slicer', averageSize: 500, sizeVariation: 400, delayUs: 100, direction: 'downstream' },
    { type: 'bandwidth', rateKBps: 20_000, direction: 'upstream' },
    { type: 'timeout', direction: 'downstream' },
    { type: 'timeout', direction: 'upstream' },
  ];

  it('loses, duplicates and reorders nothing', async () => {
    const random = seededRandom(11);
    const client = await dial(proxy.address);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let sentBytes = 0;
    let gotBytes = 0;
    client.on('data', (c: Buffer) => {
      got.update(c);
      gotBytes += c.length;
    });

    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const chunk = Buffer.alloc(random.int(1, 32 * 1024), i % 256);
        chunk.writeUInt32BE(i, 0);
        sent.update(chunk);
        sentBytes += chunk.length;
        if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
        await sleep(random.int(0, 2));
      }
    })();

    const active = new Set<string>();
    for (let step = 0; step < 60; step++) {
      const spec = faults[random.int(0, faults.length - 1)] as FaultSpec;
      const name = createToxic(spec).name;
      if (active.has(name)) {
        proxy.removeToxic(name);
        active.delete(name);
      } else {
        proxy.addToxic(createToxic(spec));
        active.add(name);
      }
      await sleep(random.int(5, 30));
    }
    writing = false;
    // Faults off first: a held pipe (timeout) keeps the writer waiting for 'drain'.
    for (const name of active) proxy.removeToxic(name);
    await writer;
    await until(() => gotBytes >= sentBytes);
    expect(gotBytes).toBe(sentBytes);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    client.destroy();
  });
});
