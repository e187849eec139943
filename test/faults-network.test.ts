import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaultNetwork, globMatcher } from '../src/faults/network.js';
import { seededRandom } from '../src/random.js';
import { dial, liveHandles, outcome, readBytes, startEcho, until, useFakeClock, type TestServer } from './faults-support.js';

describe('FaultNetwork', () => {
  let echo: TestServer;
  let net: FaultNetwork;
  beforeEach(async () => {
    echo = await startEcho();
    net = new FaultNetwork(seededRandom(1));
  });
  afterEach(async () => {
    await net.close();
    await echo.close();
  });

  it('routes each hop through its own proxy on 127.0.0.1, the same one for the same hop', async () => {
    const a = await net.route('rest:payments', echo.address);
    const b = await net.route('rest:inventory', echo.address);
    expect(a.host).toBe('127.0.0.1');
    expect(a.port).not.toBe(echo.address.port);
    expect(b.port).not.toBe(a.port);
    expect(await net.route('rest:payments', echo.address)).toEqual(a);
    expect(net.hops()).toEqual(['rest:payments', 'rest:inventory']);
    const client = await dial(a);
    client.write('via proxy');
    expect((await readBytes(client, 9)).data.toString()).toBe('via proxy');
    client.destroy();
  });

  it('rejects a second target for the same hop', async () => {
    await net.route('rest:payments', echo.address);
    await expect(net.route('rest:payments', { host: '127.0.0.1', port: 1 })).rejects.toThrow(
      `invalid value for hop: "rest:payments" (expected one target per hop (already routed to 127.0.0.1:${echo.address.port}))`,
    );
  });

  describe('on a fake clock', () => {
    const clock = useFakeClock();

    it('adds and removes faults by glob, also on hops routed later', async () => {
      await net.route('rest:payments', echo.address);
      await net.route('rest:inventory', echo.address);
      expect(net.addFault('*:payments', { type: 'latency', latencyMs: 200, name: 'slow' })).toBe('slow');
      const grpc = await net.route('grpc:payments', echo.address);
      const faults = Object.fromEntries(net.stats().map((s) => [s.hop, s.faults]));
      expect(faults).toEqual({ 'rest:payments': ['slow'], 'rest:inventory': [], 'grpc:payments': ['slow'] });

      const client = await dial(grpc);
      const delivered = () => net.stats().find((s) => s.hop === 'grpc:payments')?.bytesDownstream;
      client.write('x');
      await until(() => vi.getTimerCount() === 1); // the echo is back, held by the fault
      expect(await clock.advanceUntil(() => delivered() === 1, 1000)).toBe(200);
      expect((await readBytes(client, 1)).data.toString()).toBe('x');

      expect(net.removeFault('*:payments', 'slow')).toEqual(['rest:payments', 'grpc:payments']);
      // Removed: the next byte comes back while the clock stands still.
      client.write('y');
      expect((await readBytes(client, 1)).data.toString()).toBe('y');
      expect(vi.getTimerCount()).toBe(0);
      // The rule is gone too: a hop routed now gets nothing.
      await net.route('queue:payments', echo.address);
      expect(net.stats().every((s) => s.faults.length === 0)).toBe(true);
      client.destroy();
    });
  });

  it('adds a fault to connections already open', async () => {
    const at = await net.route('rest:payments', echo.address);
    const client = await dial(at);
    const ended = outcome(client);
    net.addFault('rest:payments', { type: 'reset_peer' });
    expect((await ended).how).toBe('ECONNRESET');
    expect(net.stats()[0]).toMatchObject({ hop: 'rest:payments', connections: 1, faulted: 1, resets: 1 });
  });

  it('rejects a duplicate fault name on a hop before changing anything', async () => {
    await net.route('a:x', echo.address);
    await net.route('b:x', echo.address);
    net.addFault('a:x', { type: 'latency', latencyMs: 1 });
    expect(() => net.addFault('*', { type: 'latency', latencyMs: 2 })).toThrow(
      'invalid value for fault name: "latency_downstream" (expected a name not already used on hop a:x)',
    );
    expect(net.stats().map((s) => s.faults)).toEqual([['latency_downstream'], []]);
  });

  it('clearFaults removes every fault and rule', async () => {
    await net.route('a:x', echo.address);
    net.addFault('*', { type: 'down' });
    net.addFault('*', { type: 'latency', latencyMs: 5, direction: 'upstream' });
    net.clearFaults();
    await net.route('b:x', echo.address);
    expect(net.stats().map((s) => s.faults)).toEqual([[], []]);
  });
});

describe('FaultNetwork.close', () => {
  it('closes every proxy and socket and leaves no open handle', async () => {
    const before = await liveHandles();
    const echo = await startEcho();
    const net = new FaultNetwork(seededRandom(2));
    const a = await net.route('h:a', echo.address);
    await net.route('h:b', echo.address);
    net.addFault('h:a', { type: 'latency', latencyMs: 10_000 });
    net.addFault('h:b', { type: 'timeout', timeoutMs: 60_000 });
    const client = await dial(a);
    client.write('held by the latency fault');
    const idle = await dial(await net.route('h:b', echo.address));
    // Both connections taken by their fault, the echo's answer on its way back to the latency one.
    await until(() => net.stats().every((s) => s.open === 1) && net.stats()[0]?.bytesUpstream === 25);
    await new Promise((r) => setTimeout(r, 20));

    const ends = [outcome(client), outcome(idle)];
    await net.close();
    // The proxy closed its side of both (FIN); the clients, half-open capable, close theirs.
    expect((await Promise.all(ends)).map((o) => o.how)).toEqual(['end', 'end']);
    client.destroy();
    idle.destroy();
    await Promise.all([once(client, 'close'), once(idle, 'close')]);
    await echo.close();
    const after = await liveHandles();
    // Nothing more alive than before the network existed (timers included: the faults' were cleared).
    expect(Object.entries(after).filter(([kind, n]) => n > (before[kind] ?? 0))).toEqual([]);
    await expect(net.route('h:c', echo.address)).rejects.toThrow('fault network is closed; cannot route h:c');
  });
});

describe('globMatcher', () => {
  it('matches names exactly, and * as any run of characters', () => {
    expect(globMatcher('rest:payments')('rest:payments')).toBe(true);
    expect(globMatcher('rest:pay')('rest:payments')).toBe(false);
    expect(globMatcher('*:payments')('grpc:payments')).toBe(true);
    expect(globMatcher('*:payments')('grpc:payments-db')).toBe(false);
    expect(globMatcher('rest:*')('rest:inventory')).toBe(true);
    expect(globMatcher('rest.*')('restx')).toBe(false);
    expect(globMatcher('*')('anything')).toBe(true);
  });
});
