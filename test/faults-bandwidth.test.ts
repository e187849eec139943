import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, readBytes, startProxy, startSender, startServer, tap, until, useFakeClock, type FakeClock, type TestServer } from './faults-support.js';
import { once } from 'node:events';

/**
 * Moves the clock 1 ms at a time until `total` bytes are delivered, checking the pace at
 * every ms: never ahead of `bytesPerMs` (the fault releases what is due within the next
 * ms), never behind it by more than one 10 ms piece. Resolves with the ms it took.
 */
async function expectPaced(clock: FakeClock, delivered: () => number, total: number, bytesPerMs: number): Promise<number> {
  const start = clock.now();
  const offPace: string[] = [];
  while (delivered() < total) {
    await clock.advance(1);
    const t = clock.now() - start;
    const low = Math.min(total, bytesPerMs * (t - 10));
    const high = bytesPerMs * (t + 1);
    if (delivered() < low || delivered() > high) offPace.push(`${delivered()} B at ${t} ms`);
    if (t > 10 * (total / bytesPerMs)) break;
  }
  expect(offPace).toEqual([]);
  return clock.now() - start;
}

describe('bandwidth fault', () => {
  let proxy: FaultProxy;
  let server: TestServer;
  afterEach(async () => {
    await proxy.close();
    await server.close();
  });
  const clock = useFakeClock();

  describe('downstream', () => {
    beforeEach(async () => {
      server = await startSender(100_000);
      proxy = await startProxy(server.address);
    });

    it('delivers 100 KB at 200 KB/s: never ahead of the rate, done after 0.5 s of clock', async () => {
      const limit = tap(createToxic({ type: 'bandwidth', rateKBps: 200 }));
      proxy.addToxic(limit.toxic);
      const client = await dial(proxy.address);
      const reading = readBytes(client, 100_000);
      await until(() => limit.bytesIn() === 100_000); // all of it at the fault, the clock still at 0
      const ms = await expectPaced(clock, () => proxy.stats().bytesDownstream, 100_000, 200);
      // 100 000 B / 200 B per ms = 500 ms; the last piece may go out within the ms before.
      expect(ms === 499 || ms === 500).toBe(true);
      expect((await reading).data.equals(Buffer.alloc(100_000, 7))).toBe(true);
      client.destroy();
    });
  });

  describe('upstream', () => {
    let received = 0;
    beforeEach(async () => {
      received = 0;
      server = await startServer((s) => {
        s.on('data', (c: Buffer) => (received += c.length));
      });
      proxy = await startProxy(server.address);
    });

    it('limits what the client sends: 50 KB at 100 KB/s, done after 0.5 s of clock', async () => {
      const limit = tap(createToxic({ type: 'bandwidth', rateKBps: 100, direction: 'upstream' }));
      proxy.addToxic(limit.toxic);
      const client = await dial(proxy.address);
      client.end(Buffer.alloc(50_000, 1));
      await until(() => limit.bytesIn() === 50_000);
      const ms = await expectPaced(clock, () => proxy.stats().bytesUpstream, 50_000, 100);
      expect(ms === 499 || ms === 500).toBe(true);
      await until(() => received === 50_000);
      client.destroy();
      await once(client, 'close');
    });
  });
});
