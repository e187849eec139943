import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { InvalidOptionError } from '../errors.js';
import type { Address } from '../net/address.js';
import type { Random } from '../random.js';
import { isRefusing, type Direction, type Stage, type StageContext, type Toxic } from './toxics/types.js';

/** What one hop's proxy has seen since it started. Bytes are those delivered to the far side. */
export interface HopStats {
  readonly hop: string;
  /** Where the proxy listens (what the pattern dials). */
  readonly address: Address;
  /** Where it forwards to. */
  readonly target: Address;
  /** Connections accepted, refused ones included. */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  /** Client → server bytes delivered to the server. */
  readonly bytesUpstream: number;
  /** Server → client bytes delivered to the client. */
  readonly bytesDownstream: number;
  /** Connections that drew at least one fault. */
  readonly faulted: number;
  /** New connections refused by `down`. */
  readonly refused: number;
  /** Connections reset by a fault (`reset_peer`). */
  readonly resets: number;
  /** Open connections closed by a fault (`timeout`, `down`). */
  readonly closes: number;
  /** Connections the server end failed on by itself (refused dial, reset by the server…). */
  readonly upstreamErrors: number;
  /** Names of the faults active on the hop now. */
  readonly faults: readonly string[];
}

/**
 * Bytes the faults of one pipe may hold before the proxy stops reading from the source
 * (resumed at half of it): what a delayed or black-holed pipe buffers at most. Like a TCP
 * window it bounds a delayed pipe's throughput, to about HIGH_WATER per latency period
 * (1 MiB per 100 ms ≈ 10 MB/s): far above what the workflow's messages need.
 */
const HIGH_WATER = 1024 * 1024;

interface Slot {
  readonly toxic: Toxic;
  stage: Stage;
}

interface Counter {
  n: number;
}

/**
 * One direction of a connection: source socket → the faults on this pipe, in the order
 * added → sink socket. With no fault the chunk goes straight to `sink.write` (the hot path).
 * Backpressure: the source is paused while the sink needs a drain or the faults hold more
 * than HIGH_WATER bytes.
 */
class Pipe {
  private readonly slots: Slot[] = [];
  private held = 0;
  private sinkBlocked = false;
  private paused = false;

  constructor(
    readonly direction: Direction,
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly bytes: Counter,
    private readonly conn: Connection,
  ) {
    source.on('data', (chunk: Buffer) => {
      const first = this.slots[0];
      if (first) first.stage.write(chunk);
      else this.deliver(chunk);
    });
    source.on('end', () => {
      const first = this.slots[0];
      if (first) first.stage.end();
      else this.finish();
    });
    sink.on('drain', () => {
      this.sinkBlocked = false;
      this.maybeResume();
    });
  }

  has(toxic: Toxic): boolean {
    return this.slots.some((s) => s.toxic === toxic);
  }

  add(toxic: Toxic, random: Random): void {
    const slot = { toxic } as Slot;
    const ctx: StageContext = {
      direction: this.direction,
      random,
      forward: (chunk) => this.passFrom(slot, chunk),
      end: () => this.endFrom(slot),
      hold: (n) => this.hold(n),
      release: (n) => this.release(n),
      close: () => this.conn.close(),
      reset: () => this.conn.reset(),
    };
    slot.stage = toxic.stage(ctx);
    this.slots.push(slot);
  }

  /** Take a fault off the pipe: it hands on what it holds first, so nothing is lost or reordered. */
  remove(toxic: Toxic): void {
    const slot = this.slots.find((s) => s.toxic === toxic);
    if (!slot) return;
    slot.stage.flush();
    this.slots.splice(this.slots.indexOf(slot), 1);
  }

  dispose(): void {
    for (const slot of this.slots.splice(0)) slot.stage.dispose();
  }

  private passFrom(slot: Slot, chunk: Buffer): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // disposed with its connection
    const next = this.slots[i + 1];
    if (next) next.stage.write(chunk);
    else this.deliver(chunk);
  }

  private endFrom(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const next = this.slots[i + 1];
    if (next) next.stage.end();
    else this.finish();
  }

  private deliver(chunk: Buffer): void {
    if (this.sink.destroyed) return;
    this.bytes.n += chunk.length;
    if (!this.sink.write(chunk)) {
      this.sinkBlocked = true;
      this.pause();
    }
  }

  /** The source half-closed and every byte before it was delivered: half-close the sink. */
  private finish(): void {
    if (!this.sink.destroyed) this.sink.end();
  }

  private hold(n: number): void {
    this.held += n;
    if (this.held > HIGH_WATER) this.pause();
  }

  private release(n: number): void {
    this.held -= n;
    this.maybeResume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }

  private maybeResume(): void {
    if (this.paused && !this.sinkBlocked && this.held <= HIGH_WATER / 2) {
      this.paused = false;
      this.source.resume();
    }
  }
}

/** One proxied connection: the accepted client socket, the socket dialled to the server, two pipes. */
class Connection {
  readonly upstream: Pipe;
  readonly downstream: Pipe;
  /** Whether a fault has taken this connection (counted once). */
  faulted = false;
  private finished = false;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    private readonly proxy: FaultProxy,
    counters: { up: Counter; down: Counter },
  ) {
    this.upstream = new Pipe('upstream', client, server, counters.up, this);
    this.downstream = new Pipe('downstream', server, client, counters.down, this);
    client.on('error', (err) => this.onError(server, err));
    server.on('error', (err) => {
      if (!this.finished) this.proxy.count('upstreamErrors');
      this.onError(client, err);
    });
    client.on('close', () => this.onClose(client, server));
    server.on('close', () => this.onClose(server, client));
  }

  pipe(direction: Direction): Pipe {
    return direction === 'upstream' ? this.upstream : this.downstream;
  }

  /** Fault action: close both sides (FIN). */
  close(): void {
    if (this.finished) return;
    this.proxy.count('closes');
    this.stopPipes();
    this.client.destroy();
    this.server.destroy();
  }

  /** Fault action: reset both sides (RST). */
  reset(): void {
    if (this.finished) return;
    this.proxy.count('resets');
    this.stopPipes();
    resetSocket(this.client);
    resetSocket(this.server);
  }

  /** The proxy is closing. */
  destroy(): void {
    this.stopPipes();
    this.client.destroy();
    this.server.destroy();
  }

  /** Stop both pipes' faults (timers): the sockets are closing. */
  private stopPipes(): void {
    if (this.finished) return;
    this.finished = true;
    this.upstream.dispose();
    this.downstream.dispose();
  }

  /** An error on one side is passed on to the other: a reset as a reset, anything else as a close. */
  private onError(other: Socket, err: Error): void {
    this.stopPipes();
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
      resetSocket(other);
    } else {
      other.destroy();
    }
  }

  private onClose(socket: Socket, other: Socket): void {
    // A clean close (both halves done) means the other side's reading half has ended too and
    // our pipe will end its writing half once the faults hand the last bytes on: leave it.
    // Anything else (destroyed mid-stream) closes the other side at once.
    const clean = socket.readableEnded && socket.writableFinished;
    if (!clean && !other.destroyed) {
      this.stopPipes();
      other.destroy();
    }
    if (other.destroyed) this.stopPipes();
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

interface ActiveToxic {
  readonly toxic: Toxic;
  /** Draws which connections the fault takes; forks give each taken connection its own stream. */
  readonly select: Random;
}

type CountName = 'faulted' | 'refused' | 'resets' | 'closes' | 'upstreamErrors';

/**
 * A TCP proxy on 127.0.0.1 in front of one hop, with faults on its connections
 * (toxiproxy's model: each connection has an upstream and a downstream pipe; faults sit on
 * a pipe). Every socket sets noDelay; half-closes are passed on; when one side errors or is
 * destroyed the other is closed (a reset passed on as a reset).
 *
 * Seeded: each fault added gets a fork of the proxy's stream and draws, per connection in
 * the order they arrive, whether it takes the connection (and when added to open
 * connections, for each in the order they were accepted). Same seed + same faults + same
 * sequence of connections → the same connections are faulted.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly connections = new Set<Connection>();
  private readonly active: ActiveToxic[] = [];
  private readonly up: Counter = { n: 0 };
  private readonly down: Counter = { n: 0 };
  private readonly counts: Record<CountName, number> = { faulted: 0, refused: 0, resets: 0, closes: 0, upstreamErrors: 0 };
  private accepted = 0;
  private listening: Address | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly hop: string,
    readonly target: Address,
    private readonly random: Random,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.accept(client));
  }

  /** Start listening on 127.0.0.1 at an ephemeral port; resolves to the address to dial. */
  async listen(): Promise<Address> {
    if (this.listening) return this.listening;
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const info = this.server.address() as AddressInfo;
    this.listening = { host: '127.0.0.1', port: info.port };
    return this.listening;
  }

  get address(): Address {
    if (!this.listening) throw new Error(`fault proxy for ${this.hop} is not listening`);
    return this.listening;
  }

  /** Names of the active faults, in the order added. */
  faults(): readonly string[] {
    return this.active.map((a) => a.toxic.name);
  }

  /** Add a fault: it draws for every open connection now, and for each new one as it arrives. */
  addToxic(toxic: Toxic): void {
    if (this.active.some((a) => a.toxic.name === toxic.name)) {
      throw new InvalidOptionError('fault name', toxic.name, `a name not already used on hop ${this.hop}`);
    }
    const entry: ActiveToxic = { toxic, select: this.random.fork() };
    this.active.push(entry);
    for (const conn of this.connections) {
      if (entry.select.chance(toxic.probability)) this.apply(conn, entry);
    }
  }

  /** Remove a fault by name; what it holds is delivered in order. False when there is none. */
  removeToxic(name: string): boolean {
    const i = this.active.findIndex((a) => a.toxic.name === name);
    const entry = this.active[i];
    if (!entry) return false;
    this.active.splice(i, 1);
    for (const conn of this.connections) conn.pipe(entry.toxic.direction).remove(entry.toxic);
    return true;
  }

  stats(): HopStats {
    return {
      hop: this.hop,
      address: this.listening ?? { host: '127.0.0.1', port: 0 },
      target: this.target,
      connections: this.accepted,
      open: this.connections.size,
      bytesUpstream: this.up.n,
      bytesDownstream: this.down.n,
      ...this.counts,
      faults: this.faults(),
    };
  }

  /** @internal */
  count(name: CountName): void {
    this.counts[name]++;
  }

  /** Stop accepting, close every connection and wait until every socket and the server are closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const serverClosed = this.listening ? once(this.server, 'close') : Promise.resolve();
      this.server.close();
      const socketsClosed = [...this.sockets].map((s) => (s.closed ? Promise.resolve() : once(s, 'close')));
      for (const conn of this.connections) conn.destroy();
      for (const s of this.sockets) s.destroy();
      await Promise.all([serverClosed, ...socketsClosed]);
    })();
    return this.closing;
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    this.accepted++;
    this.track(client);
    if (this.closing) {
      client.destroy();
      return;
    }
    // Every active fault draws for every connection, so one fault's draws never depend on another's.
    const taken = this.active.filter((a) => a.select.chance(a.toxic.probability));
    if (taken.length > 0) this.counts.faulted++;
    if (taken.some((a) => isRefusing(a.toxic))) {
      this.counts.refused++;
      client.on('error', () => {});
      resetSocket(client);
      return;
    }
    const server = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true, noDelay: true });
    server.setNoDelay(true);
    this.track(server);
    const conn = new Connection(client, server, this, { up: this.up, down: this.down });
    conn.faulted = taken.length > 0;
    this.connections.add(conn);
    let open = 2;
    const closed = () => {
      if (--open === 0) this.connections.delete(conn);
    };
    client.once('close', closed);
    server.once('close', closed);
    for (const entry of taken) this.apply(conn, entry);
  }

  private apply(conn: Connection, entry: ActiveToxic): void {
    const pipe = conn.pipe(entry.toxic.direction);
    if (pipe.has(entry.toxic)) return;
    if (!conn.faulted) {
      conn.faulted = true;
      this.counts.faulted++;
    }
    pipe.add(entry.toxic, entry.select.fork());
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
