import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, readBytes } from './faults-support.js';

describe('slicer fault', () => {
  const f = echoProxyFixture();

  it('delivers a message intact, in several reads, paced by the delay', async () => {
    f.proxy.addToxic(createToxic({ type: 'slicer', averageSize: 20, sizeVariation: 10, delayUs: 3000 }));
    const client = await dial(f.proxy.address);
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
