import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '../src/errors.js';
import {
  connectEventStore,
  EventStoreClosedError,
  EventStoreConnectionError,
  formatEventStoreUrl,
  MemoryEventStore,
  parseEventStoreUrl,
  startEventStoreServer,
  WrongExpectedVersionError,
  type EventStoreAddress,
  type EventStoreServer,
  type NewEvent,
  type RecordedEvent,
  type RemoteEventStore,
} from '../src/event-store/index.js';

// What only the remote store has: connections that drop, backpressure across TCP, errors
// that travel as frames. The shared contract is pinned by event-store-conformance.test.ts.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startEventStoreServer>[0] = {}): Promise<EventStoreServer> {
  const s = await startEventStoreServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function client(url: string | EventStoreAddress): Promise<RemoteEventStore> {
  const c = await connectEventStore(url);
  cleanups.push(() => c.close());
  return c;
}

function events(n: number, from = 0, pad = ''): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'Happened', data: { i: from + i, pad } }));
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * A plain TCP forwarder in front of `target` that the test controls: it can hold what the
 * client sends (so a request stays in flight), and reset or end the client's connections.
 */
interface Forwarder {
  readonly address: EventStoreAddress;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** While true, bytes from clients are swallowed instead of forwarded. */
  hold: boolean;
  /** Resolves when the next chunk is swallowed. */
  held(): Promise<void>;
  /** Sends RST on every client connection. */
  reset(): void;
  /** Closes every client connection cleanly (FIN). */
  end(): void;
  close(): Promise<void>;
}

async function forwarder(target: EventStoreAddress): Promise<Forwarder> {
  const clients = new Set<Socket>();
  let accepted = 0;
  let onHeld: (() => void) | undefined;
  const tcp = createServer((downstream) => {
    accepted++;
    clients.add(downstream);
    const upstream = connect(target.port, target.host);
    for (const s of [downstream, upstream]) s.on('error', () => {});
    downstream.on('data', (chunk: Buffer) => {
      if (!f.hold) upstream.write(chunk);
      else {
        onHeld?.();
        onHeld = undefined;
      }
    });
    upstream.on('data', (chunk: Buffer) => downstream.write(chunk));
    downstream.once('close', () => {
      clients.delete(downstream);
      upstream.destroy();
    });
    upstream.once('close', () => downstream.destroy());
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const f: Forwarder = {
    address: { host: '127.0.0.1', port: (tcp.address() as AddressInfo).port },
    get accepted() {
      return accepted;
    },
    hold: false,
    held: () => new Promise<void>((resolve) => (onHeld = resolve)),
    reset: () => {
      for (const s of clients) s.resetAndDestroy();
    },
    end: () => {
      for (const s of clients) s.end();
    },
    close: async () => {
      const closed = once(tcp, 'close');
      tcp.close();
      for (const s of clients) s.destroy();
      await closed;
    },
  };
  cleanups.push(() => f.close());
  return f;
}

/** A port nothing listens on (it was just released). */
async function closedPort(): Promise<number> {
  const tcp = createServer().listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const { port } = tcp.address() as AddressInfo;
  await new Promise((resolve) => tcp.close(resolve));
  return port;
}

describe('remote event store: request connection', () => {
  it('rejects a request in flight when the connection is reset, and reconnects for the next one', async () => {
    const srv = await server();
    const fwd = await forwarder(srv.address);
    const store = await client(fwd.address);
    await store.append('s', events(2), 0);

    fwd.hold = true;
    const held = fwd.held();
    const inFlight = store.readStream('s').catch((e: unknown) => e);
    await held;
    fwd.reset();
    const err = await inFlight;
    expect(err).toBeInstanceOf(EventStoreConnectionError);
    expect(err).toMatchObject({ code: 'ECONNRESET', message: `event store connection to pbes://127.0.0.1:${fwd.address.port} failed: ECONNRESET` });

    fwd.hold = false;
    expect((await store.readStream('s')).map((e) => e.version)).toEqual([1, 2]);
    expect(fwd.accepted).toBe(2);
  });

  it('rejects every pipelined request with ECONNCLOSED when the peer closes cleanly', async () => {
    const srv = await server();
    const fwd = await forwarder(srv.address);
    const store = await client(fwd.address);
    fwd.hold = true;
    const held = fwd.held();
    const inFlight = [store.readAll(0), store.loadSnapshot('s'), store.append('s', events(1), 0)].map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e as { code?: unknown }).code,
      ),
    );
    await held;
    fwd.end();
    expect(await Promise.all(inFlight)).toEqual(['ECONNCLOSED', 'ECONNCLOSED', 'ECONNCLOSED']);
    fwd.hold = false;
    expect(await store.append('s', events(1), 0)).toEqual({ version: 1, positions: [1] });
  });

  it('rejects with ECONNREFUSED instead of hanging once the server is gone', async () => {
    const srv = await startEventStoreServer();
    const store = await client(srv.url);
    await store.append('s', events(1), 0);
    await srv.close();
    // The first request may still go out on the old connection (if the client has not yet
    // seen it close); the next one certainly opens a new connection, which is refused.
    const first = await store.readAll(0).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(EventStoreConnectionError);
    expect(['ECONNRESET', 'ECONNCLOSED', 'EPIPE', 'ECONNREFUSED']).toContain((first as EventStoreConnectionError).code);
    await expect(store.readAll(0)).rejects.toMatchObject({ name: 'EventStoreConnectionError', code: 'ECONNREFUSED' });
  });

  it('refuses to connect to a port nothing listens on', async () => {
    const port = await closedPort();
    const err = await connectEventStore(`pbes://127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect((err as Error).message).toBe(`cannot reach --event-store "pbes://127.0.0.1:${port}": ECONNREFUSED`);
    await expect(connectEventStore('http://127.0.0.1:1')).rejects.toThrow(
      'invalid value for --event-store: "http://127.0.0.1:1" (expected pbes://host:port)',
    );
  });

  it('parses pbes://host:port and rejects any other URL naming the option', () => {
    expect(parseEventStoreUrl('pbes://127.0.0.1:4567')).toEqual({ host: '127.0.0.1', port: 4567 });
    expect(parseEventStoreUrl('pbes://[::1]:9/')).toEqual({ host: '::1', port: 9 });
    expect(formatEventStoreUrl({ host: '::1', port: 9 })).toBe('pbes://[::1]:9');
    for (const url of ['pbes://127.0.0.1', 'pbes://127.0.0.1:0', 'pbes://h:70000', 'pbes://h:1/db', 'pbes://u@h:1', 'tcp://h:1']) {
      expect(() => parseEventStoreUrl(url, '--store-url')).toThrow(
        `invalid value for --store-url: ${JSON.stringify(url)} (expected pbes://host:port)`,
      );
    }
  });

  it('rejects requests in flight with EventStoreClosedError on close()', async () => {
    const srv = await server();
    const fwd = await forwarder(srv.address);
    const store = await client(fwd.address);
    fwd.hold = true;
    const held = fwd.held();
    const inFlight = store.readAll(0).catch((e: unknown) => e);
    await held;
    await store.close();
    const err = await inFlight;
    expect(err).toBeInstanceOf(EventStoreClosedError);
    expect(err).toMatchObject({ code: 'PB_ERR_EVENT_STORE_CLOSED', kind: 'memory', message: 'the memory event store is closed' });
  });
});

describe('remote event store: errors', () => {
  it('rebuilds the server-side error classes with their fields', async () => {
    const backing = new MemoryEventStore();
    const srv = await server({ store: backing });
    const store = await client(srv.url);
    await store.append('s', events(2), 0);
    const wrong = await store.append('s', events(1), 1).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(WrongExpectedVersionError);
    expect(wrong).toMatchObject({
      name: 'WrongExpectedVersionError',
      code: 'PB_ERR_WRONG_EXPECTED_VERSION',
      stream: 's',
      expected: 1,
      actual: 2,
      message: 'wrong expected version for stream "s": expected 1, actual 2',
    });

    // The store behind the server is closed, the client is not: the server's error comes back.
    await backing.close();
    const closed = await store.readAll(0).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(EventStoreClosedError);
    expect(closed).toMatchObject({ kind: 'memory', message: 'the memory event store is closed' });
  });

  it('validates arguments on the client with the memory store’s exact errors', async () => {
    const srv = await server();
    const store = await client(srv.url);
    await expect(store.append('', events(1), 0)).rejects.toThrow(new TypeError('stream must be a non-empty string, got ""'));
    await expect(store.append('s', events(1), -1)).rejects.toThrow(
      new RangeError("expectedVersion must be a non-negative integer or 'any', got -1"),
    );
    await expect(store.readAll(0, 0)).rejects.toThrow(new RangeError('limit must be an integer >= 1, got 0'));
    expect(() => store.subscribe(-1, () => {})).toThrow(new RangeError('afterPosition must be a non-negative integer, got -1'));
    expect(() => store.subscribe(0, () => {}, { batchSize: 0 })).toThrow(new RangeError('batchSize must be a positive integer, got 0'));
  });

  it('answers a raw frame with an error frame, and drops a peer that breaks the protocol', async () => {
    const srv = await server();
    const raw = connect(srv.address.port, '127.0.0.1');
    raw.setEncoding('utf8');
    let received = '';
    raw.on('data', (chunk: string) => (received += chunk));
    raw.write('{"id":1,"op":"readAll","afterPosition":-1,"limit":1}\n{"id":2,"op":"drop"}\n');
    while (received.split('\n').length < 3) await once(raw, 'data');
    expect(received.split('\n').sort()).toEqual([
      '',
      '{"id":1,"error":{"name":"RangeError","message":"afterPosition must be an integer >= 0, got -1"}}',
      '{"id":2,"error":{"name":"TypeError","message":"unknown op \\"drop\\""}}',
    ]);
    raw.write('not json\n');
    await once(raw, 'close');
  });
});

describe('remote event store: subscriptions', () => {
  it('rejects done when its connection is lost; resubscribing from the checkpoint misses and repeats nothing', async () => {
    const srv = await server();
    const store = await client(srv.url);
    const fwd = await forwarder(srv.address);
    const viaForwarder = await client(fwd.address);
    await store.append('a', events(20), 0);

    const first: RecordedEvent[] = [];
    const blocked = gate();
    const release = gate();
    const sub = viaForwarder.subscribe(0, async (event) => {
      first.push(event);
      if (first.length === 8) {
        blocked.open();
        await release.wait;
      }
    });
    let settled = false;
    const done = sub.done.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    void done.then(() => (settled = true));
    await blocked.wait;
    fwd.reset();
    await tick();
    await tick();
    // The running handler is finished before done settles, and counts in the checkpoint.
    expect(settled).toBe(false);
    release.open();
    const err = await done;
    expect(err).toBeInstanceOf(EventStoreConnectionError);
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expect(first).toHaveLength(8);
    expect(sub.checkpoint).toBe(8);

    await store.append('b', events(10), 0);
    const rest: RecordedEvent[] = [];
    const all = gate();
    const resumed = store.subscribe(sub.checkpoint, (event) => {
      rest.push(event);
      if (rest.length === 22) all.open();
    });
    await all.wait;
    await resumed.caughtUp;
    await resumed.stop();
    expect([...first, ...rest].map((e) => e.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('rejects done when the server closes', async () => {
    const srv = await startEventStoreServer();
    const store = await client(srv.url);
    const sub = store.subscribe(0, () => {});
    await sub.caughtUp;
    await srv.close();
    await expect(sub.done).rejects.toBeInstanceOf(EventStoreConnectionError);
  });

  it('holds back a server whose subscriber is slow, then delivers everything in order', async () => {
    const sockets: Socket[] = [];
    const srv = await server({ onConnection: (socket) => sockets.push(socket) });
    const store = await client(srv.url);
    const total = 5000;
    // 4 KiB per event: 20 MiB in all, more than loopback's socket buffers can hide.
    const pad = 'x'.repeat(4096);
    const seen: RecordedEvent[] = [];
    const release = gate();
    // Runs first: a failed assertion must not leave the handler blocking the cleanup.
    cleanups.push(async () => release.open());
    const sub = store.subscribe(0, async (event) => {
      seen.push(event);
      if (seen.length === 1) await release.wait;
    });
    let maxBuffered = 0;
    const sample = () => {
      for (const s of sockets) maxBuffered = Math.max(maxBuffered, s.writableLength);
    };
    for (let i = 0; i < total; i += 50) {
      await store.append(`s-${i}`, events(50, i, pad), 0);
      sample();
    }
    // Wait until the server is blocked on 'drain' for the subscription's socket.
    const subscriptionSocket = sockets[1]!;
    while (!subscriptionSocket.writableNeedDrain) {
      sample();
      await tick();
    }
    sample();
    expect(sockets).toHaveLength(2);
    expect(seen).toHaveLength(1);
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
    expect(subscriptionSocket.bytesWritten).toBeLessThan(total * pad.length);

    release.open();
    while (seen.length < total) await tick();
    await sub.stop();
    expect(seen.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(seen.map((e) => e.data.i)).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});

describe('remote event store: lifecycle', () => {
  it('leaves no socket, server or timer open after the client and the server are closed', async () => {
    await tick();
    const before = handles();
    let serverSockets = 0;
    const srv = await startEventStoreServer({
      onConnection: (socket) => {
        serverSockets++;
        socket.once('close', () => serverSockets--);
      },
    });
    const store = await connectEventStore(srv.url);
    await store.append('s', events(3), 0);
    const sub = store.subscribe(0, () => {});
    await sub.caughtUp;
    await store.readAll(0);
    await store.close();
    await expect(sub.done).resolves.toBeUndefined();
    // The client's own sockets are closed once close() resolves; the server's may still be closing.
    expect(handles().TCPSocketWrap ?? 0).toBeLessThanOrEqual((before.TCPSocketWrap ?? 0) + serverSockets);
    await srv.close();
    await store.close();
    await srv.close();
    await tick();
    const after = handles();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });
});

/** Sockets, listening sockets and timers the process holds (what would keep it alive). */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout') counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
