import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, readBytes, startProxy, startSender, startServer, type TestServer } from './faults-support.js';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

describe('bandwidth fault', () => {
  let proxy: FaultProxy;
  let server: TestServer;
  afterEach(async () => {
    await proxy.close();
    await server.close();
  });

  describe('downstream', () => {
    beforeEach(async () => {
      server = await startSender(100_000);
      proxy = await startProxy(server.address);
    });

    it('delivers 100 KB at 200 KB/s in about 0.5 s (± 25%)', async () => {
      proxy.addToxic(createToxic({ type: 'bandwidth', rateKBps: 200 }));
      const client = await dial(proxy.address);
      const { data, ms } = await readBytes(client, 100_000);
      expect(data.equals(Buffer.alloc(100_000, 7))).toBe(true);
      expect(ms).toBeGreaterThan(375);
      expect(ms).toBeLessThan(625);
      client.destroy();
    });
  });

  describe('upstream', () => {
    let received: Promise<number>;
    beforeEach(async () => {
      let resolve: (ms: number) => void = () => {};
      received = new Promise((r) => (resolve = r));
      server = await startServer((s) => {
        let n = 0;
        s.on('data', (c: Buffer) => {
          n += c.length;
          if (n >= 50_000) resolve(performance.now());
        });
      });
      proxy = await startProxy(server.address);
    });

    it('limits what the client sends: 50 KB at 100 KB/s ≈ 0.5 s', async () => {
      proxy.addToxic(createToxic({ type: 'bandwidth', rateKBps: 100, direction: 'upstream' }));
      const client = await dial(proxy.address);
      const start = performance.now();
      client.end(Buffer.alloc(50_000, 1));
      const ms = (await received) - start;
      expect(ms).toBeGreaterThan(375);
      expect(ms).toBeLessThan(625);
      client.destroy();
      await once(client, 'close');
    });
  });
});
