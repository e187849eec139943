import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, readBytes, tap, until, useFakeClock } from './faults-support.js';

describe('slicer fault', () => {
  const f = echoProxyFixture();
  const clock = useFakeClock();

  it('delivers a message intact, in slices of at most 30 bytes, one every 3 ms of clock', async () => {
    const slicer = tap(createToxic({ type: 'slicer', averageSize: 20, sizeVariation: 10, delayUs: 3000 }));
    f.proxy.addToxic(slicer.toxic);
    const client = await dial(f.proxy.address);
    const message = Buffer.from(Array.from({ length: 200 }, (_, i) => i % 251));
    const reading = readBytes(client, message.length);
    client.write(message);
    await until(() => slicer.bytesIn() === message.length); // the echo is back, at the fault
    await clock.advanceUntil(() => f.proxy.stats().bytesDownstream === message.length, 1000);
    expect((await reading).data.equals(message)).toBe(true);
    const sizes = slicer.forwarded.map((s) => s.bytes);
    // 200 bytes in slices of 10..30 bytes (the last of a chunk may be shorter): at least 7.
    expect(sizes.length).toBeGreaterThanOrEqual(7);
    expect(sizes.every((n) => n <= 30)).toBe(true);
    // The first slice waits one pause too.
    expect(slicer.forwarded.map((s) => s.at)).toEqual(sizes.map((_, i) => 3 * (i + 1)));
    client.destroy();
  });
});
