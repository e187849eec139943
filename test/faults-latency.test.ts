import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, readBytes, startEcho, startProxy, tap, until, useFakeClock, type TestServer } from './faults-support.js';

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
  const clock = useFakeClock();

  it('holds every chunk of the downstream pipe for 100 ms of clock, to the ms', async () => {
    const slow = tap(createToxic({ type: 'latency', latencyMs: 100, direction: 'downstream' }));
    proxy.addToxic(slow.toxic);
    const client = await dial(proxy.address);
    const held: number[] = [];
    for (let i = 0; i < 3; i++) {
      client.write(`ping${i}`);
      await until(() => slow.bytesIn() === 5 * (i + 1)); // the echo is back, at the fault
      held.push(await clock.advanceUntil(() => proxy.stats().bytesDownstream === 5 * (i + 1), 1000));
      expect((await readBytes(client, 5)).data.toString()).toBe(`ping${i}`);
    }
    expect(held).toEqual([100, 100, 100]);
    client.destroy();
  });

  it('delays the upstream pipe too, and jitter stays within its bound', async () => {
    const slow = tap(createToxic({ type: 'latency', latencyMs: 100, jitterMs: 20, direction: 'upstream' }));
    proxy.addToxic(slow.toxic);
    const client = await dial(proxy.address);
    const held: number[] = [];
    for (let i = 0; i < 5; i++) {
      client.write(`ping${i}`);
      await until(() => slow.bytesIn() === 5 * (i + 1));
      held.push(await clock.advanceUntil(() => proxy.stats().bytesUpstream === 5 * (i + 1), 1000));
      expect((await readBytes(client, 5)).data.toString()).toBe(`ping${i}`);
    }
    // 100 ± 20 ms; the clock fires timers at whole ms, so a draw of 80.4 ms shows as 80.
    expect(held.every((ms) => ms >= 80 && ms <= 120)).toBe(true);
    expect(new Set(held).size).toBeGreaterThan(1); // each chunk drew its own jitter
    client.destroy();
  });

  it('keeps order and hands everything held on at once when removed', async () => {
    const slow = tap(createToxic({ type: 'latency', latencyMs: 400, jitterMs: 300, direction: 'downstream', name: 'slow' }));
    proxy.addToxic(slow.toxic);
    const client = await dial(proxy.address);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(`m${i};`);
      client.write(`m${i};`);
      // Each message reaches the fault as a chunk of its own, 2 ms of clock after the one before.
      await until(() => slow.bytesIn() === sent.join('').length);
      await clock.advance(2);
    }
    const total = sent.join('').length;
    await clock.advance(20);
    expect(proxy.stats().bytesDownstream).toBe(0); // 60 ms in: every chunk is held for 100 ms or more
    expect(proxy.removeToxic('slow')).toBe(true);
    expect(proxy.stats().bytesDownstream).toBe(total); // handed on within the call, the clock still at 60 ms
    expect((await readBytes(client, total)).data.toString()).toBe(sent.join(''));
    // Once removed, the pipe adds nothing: the reply comes back while the clock stands still.
    client.write('after');
    expect((await readBytes(client, 5)).data.toString()).toBe('after');
    expect(clock.now()).toBe(60);
    expect(vi.getTimerCount()).toBe(0);
    client.destroy();
  });
});
