import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoundaryFaultError, BoundaryGate, localController, type BoundaryController } from '../src/faults/boundary.js';
import { FaultNetwork } from '../src/faults/network.js';
import { seededRandom } from '../src/random.js';
import { dial, readBytes, startEcho } from './faults-support.js';

/** How a call ended so far, read without awaiting it. */
interface Seen<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
  /** Fake clock ms when it settled. */
  at?: number;
}

function watch<T>(p: Promise<T>): Seen<T> {
  const seen: Seen<T> = { state: 'pending' };
  p.then(
    (value) => Object.assign(seen, { state: 'resolved', value, at: Date.now() }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error, at: Date.now() }),
  );
  return seen;
}

function codeOf(seen: Seen<unknown>): string | undefined {
  return (seen.error as { code?: string } | undefined)?.code;
}

/** A call whose service finishes when the test says so, recording when it started and its effect. */
function service(value = 'ok') {
  const log: string[] = [];
  let finish: () => void = () => {};
  const fn = vi.fn(async () => {
    log.push(`start@${Date.now()}`);
    await new Promise<void>((r) => (finish = r));
    log.push('effect');
    return value;
  });
  return { fn, log, finish: () => finish() };
}

const instant = (value = 'ok') => vi.fn(async () => value);
const flush = () => vi.advanceTimersByTimeAsync(0);
const newGate = (seed = 1, hop = 'direct:payments') => new BoundaryGate(hop, seededRandom(seed));

describe('BoundaryGate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('with no fault', () => {
    it('passes values and the very error through, and counts the calls', async () => {
      const gate = newGate();
      const boom = new Error('payment declined');
      await expect(gate.call(async () => 42)).resolves.toBe(42);
      await expect(gate.call(() => Promise.reject(boom))).rejects.toBe(boom);
      expect(gate.stats()).toEqual({
        hop: 'direct:payments',
        calls: 2,
        faulted: 0,
        refused: 0,
        resets: 0,
        delayed: 0,
        held: 0,
        faults: [],
        unsupported: [],
      });
    });
  });

  describe('down', () => {
    it('refuses a new call with ECONNREFUSED without running it', async () => {
      const gate = newGate();
      gate.addFault({ type: 'down' });
      const fn = instant();
      const err = await gate.call(fn).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BoundaryFaultError);
      expect(err).toMatchObject({ code: 'ECONNREFUSED', hop: 'direct:payments', message: 'ECONNREFUSED: direct:payments is down (call refused)' });
      expect(fn).not.toHaveBeenCalled();
      expect(gate.stats()).toMatchObject({ calls: 1, faulted: 1, refused: 1, resets: 0, faults: ['down'] });
    });

    it('resets calls in flight with ECONNRESET when added, while their service still completes its effect', async () => {
      const gate = newGate();
      const svc = service();
      const seen = watch(gate.call(svc.fn));
      await flush();
      expect(svc.log).toEqual(['start@0']);
      gate.addFault({ type: 'down' });
      await flush();
      expect(seen.state).toBe('rejected');
      expect(codeOf(seen)).toBe('ECONNRESET');
      expect((seen.error as Error).message).toBe('ECONNRESET: direct:payments connection reset (mid-call)');
      svc.finish();
      await flush();
      expect(svc.log).toEqual(['start@0', 'effect']);
      expect(seen.state).toBe('rejected'); // the late result does not reach the caller
      expect(gate.stats()).toMatchObject({ calls: 1, faulted: 1, refused: 0, resets: 1 });
    });

    it('a call still on its way to the service when down is added never runs', async () => {
      const gate = newGate();
      gate.addFault({ type: 'latency', latencyMs: 100, direction: 'upstream', name: 'slow' });
      const fn = instant();
      const seen = watch(gate.call(fn));
      await vi.advanceTimersByTimeAsync(50);
      gate.addFault({ type: 'down' });
      await vi.advanceTimersByTimeAsync(200);
      expect(codeOf(seen)).toBe('ECONNRESET');
      expect(fn).not.toHaveBeenCalled();
    });

    it('lets calls through again once removed', async () => {
      const gate = newGate();
      gate.addFault({ type: 'down' });
      await expect(gate.call(instant())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(gate.removeFault('down')).toBe(true);
      const fn = instant('paid');
      await expect(gate.call(fn)).resolves.toBe('paid');
      expect(fn).toHaveBeenCalledTimes(1);
      expect(gate.stats()).toMatchObject({ calls: 2, refused: 1, faults: [] });
      expect(gate.removeFault('down')).toBe(false);
    });

    it('with probability 0 is inert: nothing refused or reset', async () => {
      const gate = newGate();
      const svc = service('late');
      const inFlight = watch(gate.call(svc.fn));
      gate.addFault({ type: 'down', probability: 0 });
      await expect(gate.call(instant('fine'))).resolves.toBe('fine');
      svc.finish();
      await flush();
      expect(inFlight).toMatchObject({ state: 'resolved', value: 'late' });
      expect(gate.stats()).toMatchObject({ calls: 2, faulted: 0, refused: 0, resets: 0, faults: ['down'] });
    });
  });

  describe('latency', () => {
    it('downstream: the service runs at once, its result reaches the caller latencyMs later', async () => {
      const gate = newGate();
      gate.addFault({ type: 'latency', latencyMs: 100 });
      const svc = service('paid');
      const seen = watch(gate.call(svc.fn));
      await flush();
      expect(svc.log).toEqual(['start@0']);
      svc.finish(); // settles at t=0: the delay counts from here
      await vi.advanceTimersByTimeAsync(99);
      expect(seen.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      expect(seen).toMatchObject({ state: 'resolved', value: 'paid', at: 100 });
      expect(gate.stats()).toMatchObject({ calls: 1, faulted: 1, delayed: 1, faults: ['latency_downstream'] });
    });

    it('downstream: delays by the seeded latency ± jitter draw', async () => {
      const gate = newGate(7);
      gate.addFault({ type: 'latency', latencyMs: 100, jitterMs: 20 });
      // The documented draw order: the fault's fork of the gate's stream, first whether it applies, then the jitter.
      const stream = seededRandom(7).fork();
      stream.chance(1);
      const expected = 100 + (stream.next() * 2 - 1) * 20;
      expect(Math.abs(expected - 100)).toBeGreaterThan(2); // this seed really jitters
      const seen = watch(gate.call(instant()));
      await vi.advanceTimersByTimeAsync(Math.floor(expected) - 1);
      expect(seen.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(120 - (Math.floor(expected) - 1));
      expect(seen.state).toBe('resolved');
      expect(seen.at).toBe(Math.trunc(expected)); // the fake clock fires at whole ms
    });

    it('downstream: delays a rejection the same way', async () => {
      const gate = newGate();
      gate.addFault({ type: 'latency', latencyMs: 30 });
      const seen = watch(gate.call(() => Promise.reject(new Error('declined'))));
      await vi.advanceTimersByTimeAsync(29);
      expect(seen.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      expect(seen.state).toBe('rejected');
      expect((seen.error as Error).message).toBe('declined');
    });

    it('upstream: delays the start of the call, not its result', async () => {
      const gate = newGate();
      gate.addFault({ type: 'latency', latencyMs: 80, direction: 'upstream' });
      const svc = service();
      const seen = watch(gate.call(svc.fn));
      await vi.advanceTimersByTimeAsync(79);
      expect(svc.fn).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(svc.log).toEqual(['start@80']);
      svc.finish();
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', at: 80 });
    });

    it('removed: delayed calls go on at once', async () => {
      const gate = newGate();
      gate.addFault({ type: 'latency', latencyMs: 60_000, name: 'slow' });
      const seen = watch(gate.call(instant()));
      await vi.advanceTimersByTimeAsync(10);
      gate.removeFault('slow');
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', at: 10 });
    });
  });

  describe('timeout', () => {
    it('upstream: holds the call, without running it, until removed; then it runs', async () => {
      const gate = newGate();
      gate.addFault({ type: 'timeout', direction: 'upstream' });
      const fn = instant('late');
      const seen = watch(gate.call(fn));
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      expect(fn).not.toHaveBeenCalled();
      expect(seen.state).toBe('pending');
      gate.removeFault('timeout_upstream');
      await flush();
      expect(fn).toHaveBeenCalledTimes(1);
      expect(seen).toMatchObject({ state: 'resolved', value: 'late' });
      expect(gate.stats()).toMatchObject({ calls: 1, faulted: 1, held: 1, resets: 0 });
    });

    it('downstream (default): the service runs and its effect happens, the result is held until removed', async () => {
      const gate = newGate();
      gate.addFault({ type: 'timeout' });
      const svc = service('charged');
      const seen = watch(gate.call(svc.fn));
      await flush();
      svc.finish();
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      expect(svc.log).toEqual(['start@0', 'effect']);
      expect(seen.state).toBe('pending');
      gate.removeFault('timeout_downstream');
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', value: 'charged' });
    });

    it('timeoutMs: calls in flight are reset when the connection would be closed, and the next call is held afresh', async () => {
      const gate = newGate();
      gate.addFault({ type: 'timeout', direction: 'upstream', timeoutMs: 500 });
      const fn = instant();
      const first = watch(gate.call(fn));
      await vi.advanceTimersByTimeAsync(499);
      expect(first.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      expect(codeOf(first)).toBe('ECONNRESET');
      // A call after the close opens a new connection: the fault takes it, for another 500 ms.
      await vi.advanceTimersByTimeAsync(100);
      const second = watch(gate.call(fn));
      await vi.advanceTimersByTimeAsync(499);
      expect(second.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      expect(second).toMatchObject({ state: 'rejected', at: 1100 });
      expect(fn).not.toHaveBeenCalled();
      expect(gate.stats()).toMatchObject({ calls: 2, faulted: 2, held: 2, resets: 2 });
    });
  });

  describe('reset_peer', () => {
    it('probability 1: resets the calls in flight once, timeoutMs after it was added, then is spent', async () => {
      const gate = newGate();
      const a = service('a');
      const b = service('b');
      const seenA = watch(gate.call(a.fn));
      const seenB = watch(gate.call(b.fn));
      gate.addFault({ type: 'reset_peer', timeoutMs: 50 });
      await vi.advanceTimersByTimeAsync(49);
      expect([seenA.state, seenB.state]).toEqual(['pending', 'pending']);
      await vi.advanceTimersByTimeAsync(1);
      expect([codeOf(seenA), codeOf(seenB)]).toEqual(['ECONNRESET', 'ECONNRESET']);
      a.finish();
      b.finish();
      await flush();
      expect([...a.log, ...b.log]).toEqual(['start@0', 'effect', 'start@0', 'effect']);
      // Spent: calls after the reset go through, however long they take.
      const c = service('c');
      const seenC = watch(gate.call(c.fn));
      await vi.advanceTimersByTimeAsync(10_000);
      c.finish();
      await flush();
      expect(seenC).toMatchObject({ state: 'resolved', value: 'c' });
      expect(gate.stats()).toMatchObject({ calls: 3, faulted: 2, resets: 2, faults: ['reset_peer_downstream'] });
    });

    it('a reset that finds no call in flight leaves the connection dead: the next call fails with ECONNRESET without running, the one after goes through', async () => {
      const gate = newGate();
      gate.addFault({ type: 'reset_peer' });
      await vi.advanceTimersByTimeAsync(1);
      const first = service('first');
      const seenFirst = watch(gate.call(first.fn));
      await flush();
      expect(codeOf(seenFirst)).toBe('ECONNRESET');
      expect(first.fn).not.toHaveBeenCalled();
      const second = service('second');
      const seenSecond = watch(gate.call(second.fn));
      await flush();
      second.finish();
      await flush();
      expect(seenSecond).toMatchObject({ state: 'resolved', value: 'second' });
      expect(gate.stats()).toMatchObject({ calls: 2, resets: 1, faulted: 1 });
      // An in-memory caller sees the same: the dead connection is not skipped by the fast path.
      gate.removeFault('reset_peer_downstream');
      gate.addFault({ type: 'reset_peer' });
      await vi.advanceTimersByTimeAsync(1);
      expect(gate.quiet).toBe(false);
      await expect(gate.callInMemory(async () => 'x')).rejects.toMatchObject({ code: 'ECONNRESET' });
    });

    it('probability 0: never resets', async () => {
      const gate = newGate();
      const svc = service('kept');
      const seen = watch(gate.call(svc.fn));
      gate.addFault({ type: 'reset_peer', probability: 0 });
      await vi.advanceTimersByTimeAsync(10_000);
      svc.finish();
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', value: 'kept' });
      expect(gate.stats()).toMatchObject({ resets: 0, faulted: 0 });
    });

    it('removed before it fires: nothing happens', async () => {
      const gate = newGate();
      const svc = service('kept');
      const seen = watch(gate.call(svc.fn));
      gate.addFault({ type: 'reset_peer', timeoutMs: 100, name: 'rst' });
      await vi.advanceTimersByTimeAsync(50);
      gate.removeFault('rst');
      await vi.advanceTimersByTimeAsync(100);
      svc.finish();
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', value: 'kept' });
    });
  });

  describe('determinism', () => {
    /** 24 rounds of: add a 50% jittered latency, make one call, record its delay (0 = not drawn), remove. */
    async function delays(seed: number): Promise<number[]> {
      const gate = newGate(seed);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        gate.addFault({ type: 'latency', latencyMs: 100, jitterMs: 50, probability: 0.5, name: 'flaky' });
        const start = Date.now();
        const seen = watch(gate.call(instant()));
        await vi.advanceTimersByTimeAsync(200);
        out.push((seen.at ?? NaN) - start);
        gate.removeFault('flaky');
      }
      return out;
    }

    it('two gates with the same seed draw the same faults and delays; another seed draws others', async () => {
      const a = await delays(11);
      const b = await delays(11);
      const c = await delays(12);
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
      expect(a).toContain(0); // some rounds the fault did not take the connection…
      expect(new Set(a.filter((d) => d > 0)).size).toBeGreaterThan(3); // …others it did, each with its own jitter
      expect(a.every((d) => d === 0 || (d >= 50 && d <= 150))).toBe(true);
    });
  });

  describe('unsupported faults', () => {
    it('bandwidth and slicer are recorded and let calls through untouched', async () => {
      const gate = newGate();
      gate.addFault({ type: 'bandwidth', rateKBps: 1 });
      gate.addFault({ type: 'slicer', averageSize: 1, direction: 'upstream' });
      const seen = watch(gate.call(instant('whole')));
      await flush();
      expect(seen).toMatchObject({ state: 'resolved', value: 'whole', at: 0 });
      expect(gate.stats()).toMatchObject({
        calls: 1,
        faulted: 0,
        delayed: 0,
        held: 0,
        faults: ['bandwidth_downstream', 'slicer_upstream'],
        unsupported: ['bandwidth', 'slicer'],
      });
      expect(gate.removeFault('bandwidth_downstream')).toBe(true);
      expect(gate.stats().unsupported).toEqual(['bandwidth', 'slicer']); // "seen", not "active"
    });
  });

  describe('addFault validation', () => {
    it('rejects a bad spec with the same error as a socket hop, and a name already used', () => {
      const gate = newGate();
      expect(() => gate.addFault({ type: 'latency', latencyMs: -1 })).toThrow('invalid value for fault latency.latencyMs: -1 (expected a number >= 0)');
      expect(() => gate.addFault({ type: 'down', probability: 2 })).toThrow('invalid value for fault down.probability: 2 (expected a number from 0 to 1)');
      gate.addFault({ type: 'latency', latencyMs: 1 });
      expect(() => gate.addFault({ type: 'timeout', name: 'latency_downstream' })).toThrow(
        'invalid value for fault name: "latency_downstream" (expected a name not already used on hop direct:payments)',
      );
      expect(gate.stats().faults).toEqual(['latency_downstream']);
    });
  });

  describe('clearFaults', () => {
    it('releases every held and delayed call and leaves no timer behind', async () => {
      const gate = newGate();
      gate.addFault({ type: 'timeout', direction: 'upstream', timeoutMs: 60_000 });
      gate.addFault({ type: 'latency', latencyMs: 60_000, name: 'slow' });
      gate.addFault({ type: 'reset_peer', timeoutMs: 60_000 });
      const fn = instant('released');
      const calls = [watch(gate.call(fn)), watch(gate.call(fn))];
      await vi.advanceTimersByTimeAsync(10);
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      gate.clearFaults();
      expect(vi.getTimerCount()).toBe(0);
      await flush();
      expect(calls.map((c) => [c.state, c.value])).toEqual([
        ['resolved', 'released'],
        ['resolved', 'released'],
      ]);
      expect(fn).toHaveBeenCalledTimes(2);
      expect(gate.stats()).toMatchObject({ faults: [], held: 2, resets: 0 });
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

describe('FaultNetwork boundaries', () => {
  let net: FaultNetwork;
  beforeEach(() => {
    net = new FaultNetwork(seededRandom(1));
  });
  afterEach(async () => {
    await net.close();
  });

  /** A controller that structured-clones every argument, as a MessagePort would. */
  function cloning(gate: BoundaryGate): BoundaryController {
    const local = localController(gate);
    return {
      add: (spec) => local.add(structuredClone(spec)),
      remove: (name) => local.remove(structuredClone(name)),
      clear: () => local.clear(),
      stats: async () => structuredClone(await local.stats()),
    };
  }

  it('a glob rule reaches a gate attached before it and one attached after, and only matching ones', async () => {
    const before = newGate(1, 'direct:payments');
    net.attachBoundary(before.hop, cloning(before));
    expect(net.addFault('*:payments', { type: 'down' })).toBe('down');
    const after = newGate(2, 'inproc:payments');
    const other = newGate(3, 'direct:inventory');
    net.attachBoundary(after.hop, cloning(after));
    net.attachBoundary(other.hop, cloning(other));

    expect(net.hops()).toEqual(['direct:payments', 'inproc:payments', 'direct:inventory']);
    await expect(before.call(async () => 1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(after.call(async () => 2)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(other.call(async () => 3)).resolves.toBe(3);
    expect((await net.boundaryStats()).map((s) => [s.hop, s.faults, s.refused])).toEqual([
      ['direct:payments', ['down'], 1],
      ['inproc:payments', ['down'], 1],
      ['direct:inventory', [], 0],
    ]);

    expect(net.removeFault('*:payments', 'down')).toEqual(['direct:payments', 'inproc:payments']);
    await expect(before.call(async () => 4)).resolves.toBe(4);
    await expect(after.call(async () => 5)).resolves.toBe(5);
    // The rule is gone too: a boundary attached now gets nothing.
    const late = newGate(4, 'late:payments');
    net.attachBoundary(late.hop, localController(late));
    expect(late.stats().faults).toEqual([]);
  });

  it('one rule reaches proxies and boundaries alike; stats() stays the proxies', async () => {
    const echo = await startEcho();
    try {
      const at = await net.route('rest:payments', echo.address);
      const gate = newGate(1, 'direct:payments');
      net.attachBoundary(gate.hop, localController(gate));
      net.addFault('*:payments', { type: 'down' });
      expect(net.hops()).toEqual(['rest:payments', 'direct:payments']);
      expect(net.stats().map((s) => [s.hop, s.faults])).toEqual([['rest:payments', ['down']]]);
      await expect(gate.call(async () => 1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      net.clearFaults();
      await expect(gate.call(async () => 2)).resolves.toBe(2);
      const client = await dial(at);
      client.write('up');
      expect((await readBytes(client, 2)).data.toString()).toBe('up');
      client.destroy();
    } finally {
      await net.close();
      await echo.close();
    }
  });

  it('rejects a fault name already on a matching boundary before changing anything', () => {
    const a = newGate(1, 'a:x');
    const b = newGate(2, 'b:x');
    net.attachBoundary(a.hop, localController(a));
    net.attachBoundary(b.hop, localController(b));
    net.addFault('a:x', { type: 'latency', latencyMs: 1 });
    expect(() => net.addFault('*', { type: 'latency', latencyMs: 2 })).toThrow(
      'invalid value for fault name: "latency_downstream" (expected a name not already used on hop a:x)',
    );
    expect([a.stats().faults, b.stats().faults]).toEqual([['latency_downstream'], []]);
  });

  it('rejects a second boundary for a hop, and attaching after close', async () => {
    const gate = newGate(1, 'direct:payments');
    net.attachBoundary(gate.hop, localController(gate));
    expect(() => net.attachBoundary(gate.hop, localController(gate))).toThrow(
      'invalid value for hop: "direct:payments" (expected one proxy or boundary per hop (already attached))',
    );
    await net.close();
    expect(() => net.attachBoundary('direct:other', localController(gate))).toThrow('fault network is closed; cannot attach direct:other');
  });

  it('clearFaults and close clear the boundaries: held calls go on, later boundaries get no rule', async () => {
    const gate = newGate(1, 'direct:payments');
    net.attachBoundary(gate.hop, localController(gate));
    net.addFault('*', { type: 'timeout', direction: 'upstream' });
    const fn = vi.fn(async () => 'through');
    const held = gate.call(fn);
    await new Promise((r) => setImmediate(r));
    expect(fn).not.toHaveBeenCalled();
    net.clearFaults();
    await expect(held).resolves.toBe('through');
    const later = newGate(2, 'direct:inventory');
    net.attachBoundary(later.hop, localController(later));
    expect(later.stats().faults).toEqual([]);

    net.addFault('*', { type: 'timeout', direction: 'upstream', name: 'again' });
    const heldAtClose = gate.call(fn);
    await net.close();
    await expect(heldAtClose).resolves.toBe('through');
    expect([gate.stats().faults, later.stats().faults]).toEqual([[], []]);
    expect(net.hops()).toEqual([]);
    expect(net.detachBoundary('direct:payments')).toBe(false);
  });
});
