/**
 * Shared helpers of the fault tests: small real servers on 127.0.0.1:0 (echo, a sender of
 * N bytes), a client that reads a given number of bytes, and a proxy in front of a server.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Address } from '../src/patterns/types.js';
import { FaultProxy } from '../src/faults/proxy.js';
import { afterEach, beforeEach } from 'vitest';
import { seededRandom } from '../src/random.js';

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

/** Resolves with the first `n` bytes read from `s` and the ms it took, or rejects on close/error first. */
export function readBytes(s: Socket, n: number): Promise<{ data: Buffer; ms: number; chunks: number }> {
  const start = performance.now();
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
        resolve({ data: all.subarray(0, n), ms: performance.now() - start, chunks: parts.length });
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
export function outcome(s: Socket): Promise<{ how: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (how: string) => resolve({ how, ms: performance.now() - start });
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.once('end', () => done('end'));
    s.once('close', () => done('close'));
    s.resume();
  });
}

/** Polls `check` every 5 ms until it holds, or throws after `ms`. */
export async function until(check: () => boolean, ms = 1000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
