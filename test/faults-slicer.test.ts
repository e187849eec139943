import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, readBytes, startEcho, startProxy, type TestServer } from './faults-support.js';

describe('slicer fault', () => {
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

  it('delivers a message intact, in several reads, paced by the delay', async () => {
    proxy.addToxic(createToxic({ type: 'slicer', averageSize: 20, sizeVariation: 10, delayUs: 3000 }));
    const client = await dial(proxy.address);
    const message = Buffer.from(Array.from({ length: 200 }, (_, i) => i % 251));
    client.write(message);
    const { data, chunks, ms } = await readBytes(client, message.length);
    expect(data.equals(message)).toBe(true);
    // 200 bytes in slices of 10..30 bytes: at least 7 slices, 3 ms apart.
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(ms).toBeGreaterThanOrEqual(15);
    client.destroy();
  });
});
