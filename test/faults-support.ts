/**
 * Shared helpers of the fault tests: small real servers on 127.0.0.1:0 (echo, a sender of
 * N bytes), a client that reads a given number of bytes, a proxy in front of a server, and
 * the fake clock that drives the faults' timers.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Address } from '../src/patterns/types.js';
import { FaultProxy } from '../src/faults/proxy.js';
import type { Stage, StageContext, Toxic } from '../src/faults/toxics/types.js';
import { afterEach, beforeEach, vi } from 'vitest';
import { seededRandom } from '../src/random.js';

// Taken before any test fakes the clock: waiting for real I/O keeps real time.
const realSetTimeout = globalThis.setTimeout;

export interface TestServer {
  readonly address: Address;
  /** Sockets the server accepted and that are still open. */
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A TCP server; `onSocket` handles each accepted socket (noDelay set). */
export async function startServer(onSocket: (s: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    address: { host: '127.0.0.1', port },
    sockets,
    close: async () => {
      const closing = once(server, 'close');
      server.close();
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}

/** Echoes every byte; on the client's half-close, ends its own side too. */
export function startEcho(): Promise<TestServer> {
  return startServer((s) => s.pipe(s));
}

/** Sends `bytes` bytes on every connection, then ends. */
export function startSender(bytes: number): Promise<TestServer> {
  const payload = Buffer.alloc(bytes, 7);
  return startServer((s) => {
    s.end(payload);
    s.resume();
  });
}

/** A proxy on 127.0.0.1:0 in front of `target`, seeded. */
export async function startProxy(target: Address, seed = 1, hop = 'test:hop'): Promise<FaultProxy> {
  const proxy = new FaultProxy(hop, target, seededRandom(seed));
  await proxy.listen();
  return proxy;
}

/** A connected client socket with noDelay. */
export async function dial(address: Address): Promise<Socket> {
  const s = connect({ host: address.host, port: address.port, noDelay: true, allowHalfOpen: true });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** Resolves with the first `n` bytes read from `s`, or rejects on close/error first. */
export function readBytes(s: Socket, n: number): Promise<{ data: Buffer }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let have = 0;
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      have += chunk.length;
      if (have >= n) {
        cleanup();
        const all = Buffer.concat(parts);
        // Bytes past n stay in the socket for the next read.
        if (all.length > n) s.unshift(all.subarray(n));
        resolve({ data: all.subarray(0, n) });
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`closed after ${have} of ${n} bytes`));
    };
    const cleanup = () => {
      s.pause();
      s.off('data', onData);
      s.off('error', onError);
      s.off('close', onClose);
    };
    s.on('data', onData);
    s.once('error', onError);
    s.once('close', onClose);
    s.resume();
  });
}

/**
 * Resolves with how the peer ended the connection: an error code (`ECONNRESET`), or `end`
 * for a FIN (the client sockets are half-open capable, so a FIN alone does not close them).
 */
export function outcome(s: Socket): Promise<{ how: string }> {
  return new Promise((resolve) => {
    const done = (how: string) => resolve({ how });
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.once('end', () => done('end'));
    s.once('close', () => done('close'));
    s.resume();
  });
}

/**
 * Polls `check` every 5 ms of real time until it holds. No deadline of its own: a busy
 * machine only makes the wait longer, and a condition that never holds is reported by the
 * test's timeout.
 */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(5);
}

/** Waits `ms` of real time, also while a test has faked the clock. */
export const sleep = (ms: number) => new Promise<void>((r) => realSetTimeout(r, ms));

/**
 * TCP handles (sockets, servers) and timers alive in the process, counted once the event
 * loop has turned (a handle closed just now leaves libuv's list in the next iteration).
 */
export async function liveHandles(): Promise<Record<string, number>> {
  await sleep(20);
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (r.startsWith('TCP') || r === 'Timeout') counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}

/**
 * An echo server with a fault proxy in front, fresh for every test of the calling
 * `describe` and closed after it. Read `echo` and `proxy` inside the tests.
 */
export function echoProxyFixture(): { echo: TestServer; proxy: FaultProxy } {
  const fixture = {} as { echo: TestServer; proxy: FaultProxy };
  beforeEach(async () => {
    fixture.echo = await startEcho();
    fixture.proxy = await startProxy(fixture.echo.address);
  });
  afterEach(async () => {
    await fixture.proxy.close();
    await fixture.echo.close();
  });
  return fixture;
}

/** The fake clock of `useFakeClock`. */
export interface FakeClock {
  /** Ms of fake clock since the test started (what performance.now reads meanwhile). */
  now(): number;
  /** Moves the clock on by `ms`, firing the timers that fall due on the way, in order. */
  advance(ms: number): Promise<void>;
  /**
   * Moves the clock on 1 ms at a time until `done()` holds; resolves with the ms moved.
   * Rejects once `limitMs` of clock have passed without it (fake ms: the same on any machine).
   */
  advanceUntil(done: () => boolean, limitMs: number): Promise<number>;
}

/**
 * Drives timers by a fake clock in every test of the calling `describe`, restored after
 * each. Only setTimeout and clearTimeout are faked: sockets, setImmediate and nextTick stay
 * real, so real I/O goes on while the clock stands still. performance.now, which the faults
 * read through node:perf_hooks, follows the fake clock. It starts at 0 and moves only when
 * a test advances it, so a fault's timing is checked to the ms however busy the machine is.
 */
export function useFakeClock(): FakeClock {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], now: 0 });
    vi.spyOn(performance, 'now').mockImplementation(() => vi.getMockedSystemTime()?.getTime() ?? 0);
  });
  afterEach(() => {
    vi.mocked(performance.now).mockRestore();
    vi.useRealTimers();
  });
  const advance = async (ms: number) => {
    await vi.advanceTimersByTimeAsync(ms);
  };
  return {
    now: () => performance.now(),
    advance,
    advanceUntil: async (done, limitMs) => {
      let moved = 0;
      while (!done()) {
        if (moved >= limitMs) throw new Error(`condition not met within ${limitMs} ms of clock`);
        await advance(1);
        moved++;
      }
      return moved;
    },
  };
}

/** A fault with a tap on it: what reached it and what it handed on. */
export interface Tapped {
  readonly toxic: Toxic;
  /** Bytes written into the fault, on every connection it took. */
  bytesIn(): number;
  /** Each piece the fault handed on, in order: its size and the clock (performance.now) then. */
  readonly forwarded: { readonly bytes: number; readonly at: number }[];
}

/**
 * Wraps `toxic` to count what goes through it, changing nothing it does. Under a fake clock
 * a test must know that the bytes have reached the fault (real I/O) before it moves the clock.
 */
export function tap(toxic: Toxic): Tapped {
  let bytesIn = 0;
  const forwarded: { bytes: number; at: number }[] = [];
  const stage = (ctx: StageContext): Stage => {
    const inner = toxic.stage({
      ...ctx,
      forward: (chunk) => {
        forwarded.push({ bytes: chunk.length, at: performance.now() });
        ctx.forward(chunk);
      },
    });
    return {
      write: (chunk) => {
        bytesIn += chunk.length;
        inner.write(chunk);
      },
      end: () => inner.end(),
      flush: () => inner.flush(),
      dispose: () => inner.dispose(),
    };
  };
  return { toxic: { ...toxic, stage }, bytesIn: () => bytesIn, forwarded };
}
