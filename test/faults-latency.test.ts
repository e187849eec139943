import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import type { Address } from '../src/patterns/types.js';
import { dial, readBytes, sleep, startEcho, startProxy, type TestServer } from './faults-support.js';

describe('latency fault', () => {
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

  // Timings are the median of a few round trips, so that one stall of a busy machine does not decide.
  async function pings(address: Address, n: number): Promise<number[]> {
    const client = await dial(address);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      client.write(`ping${i}`);
      const { data, ms } = await readBytes(client, 5);
      expect(data.toString()).toBe(`ping${i}`);
      times.push(ms);
    }
    client.destroy();
    return times.sort((a, b) => a - b);
  }
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? NaN;

  it('delays the downstream pipe by 100 ms ± 40 ms', async () => {
    proxy.addToxic(createToxic({ type: 'latency', latencyMs: 100, direction: 'downstream' }));
    const times = await pings(proxy.address, 5);
    expect(times[0]).toBeGreaterThanOrEqual(99); // never less than the latency
    expect(median(times)).toBeLessThan(140);
  });

  it('delays the upstream pipe too, and jitter stays within its bound', async () => {
    proxy.addToxic(createToxic({ type: 'latency', latencyMs: 100, jitterMs: 20, direction: 'upstream' }));
    const times = await pings(proxy.address, 5);
    expect(times[0]).toBeGreaterThanOrEqual(79);
    expect(median(times)).toBeLessThan(160);
  });

  it('keeps order and hands everything held on at once when removed', async () => {
    proxy.addToxic(createToxic({ type: 'latency', latencyMs: 400, jitterMs: 300, direction: 'downstream', name: 'slow' }));
    const client = await dial(proxy.address);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(`m${i};`);
      client.write(`m${i};`);
      await sleep(2);
    }
    const total = sent.join('').length;
    const reading = readBytes(client, total);
    await sleep(60);
    expect(proxy.removeToxic('slow')).toBe(true);
    const { data, ms } = await reading;
    expect(data.toString()).toBe(sent.join(''));
    expect(ms).toBeLessThan(200); // released at removal (~60 ms), not after 100–700 ms
    // Once removed, the pipe adds nothing.
    client.write('after');
    const after = await readBytes(client, 5);
    expect(after.ms).toBeLessThan(80);
    client.destroy();
  });
});
