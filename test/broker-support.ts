/**
 * Shared helpers of the broker tests: the broker targets (embedded always, RabbitMQ when
 * AMQP_URL is set), unique names, and a raw AMQP client over node:net that uses amqplib's
 * generated codec (`lib/defs.js`) — an encoder independent of ours.
 */
import { createRequire } from 'node:module';
import { connect as netConnect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { startBroker } from '../src/broker/index.js';
import { REQUIRE_SERVICES, serviceUrl } from './support/services.js';

const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));

interface Defs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  [name: string]: unknown;
}
export const defs = require(join(amqplibDir, 'lib/defs.js')) as Defs;

export function methodId(name: string): number {
  const id = defs[name];
  if (typeof id !== 'number') throw new Error(`no method ${name} in amqplib defs`);
  return id;
}

export interface Target {
  name: 'embedded' | 'rabbitmq';
  /** Starts (embedded) or checks (RabbitMQ) the broker; returns its URL and a stop. */
  start(): Promise<{ url: string; port: number; stop(): Promise<void> }>;
}

const AMQP_URL = serviceUrl('AMQP_URL');

export const embedded: Target = {
  name: 'embedded',
  start: async () => {
    const b = await startBroker();
    return { url: b.url, port: b.port, stop: () => b.stop() };
  },
};

/** RabbitMQ target; with PB_REQUIRE_SERVICES=1 an unreachable AMQP_URL fails the suite. */
export const rabbit: Target = {
  name: 'rabbitmq',
  start: async () => {
    const url = AMQP_URL as string;
    const c = await connect(url).catch((e: unknown) => {
      throw new Error(`RabbitMQ at AMQP_URL=${url} is unreachable: ${e instanceof Error ? e.message : String(e)}`);
    });
    await c.close();
    return { url, port: Number(new URL(url).port || 5672), stop: async () => {} };
  },
};

/** Can we open a TCP connection to AMQP_URL's host:port within a second? */
async function reachable(url: string): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const s = netConnect({ host: u.hostname, port: Number(u.port || 5672) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const REQUIRED = REQUIRE_SERVICES;
const RABBIT_SET = AMQP_URL !== undefined && AMQP_URL !== '';
/**
 * The RabbitMQ variant runs when AMQP_URL is set and reachable. With PB_REQUIRE_SERVICES=1
 * it also runs when unreachable — and fails in its beforeAll instead of being skipped.
 */
const RABBIT_RUNS = RABBIT_SET && (REQUIRED || (await reachable(AMQP_URL)));

/** Targets for describe.each: the embedded broker always, RabbitMQ per RABBIT_RUNS. */
export const targets: { target: Target; skip: boolean }[] = [
  { target: embedded, skip: false },
  { target: rabbit, skip: !RABBIT_RUNS },
];

export function uniq(prefix: string): string {
  return `pb-test-${prefix}-${randomBytes(6).toString('hex')}`;
}

/** amqplib connection that records its close error instead of throwing 'error' events. */
export async function open(url: string): Promise<ChannelModel & { closedWith: () => Error | null }> {
  const c = await connect(url);
  let err: Error | null = null;
  c.on('error', (e: Error) => {
    err = e;
  });
  return Object.assign(c, { closedWith: () => err });
}

export interface RawFrame {
  type: number;
  channel: number;
  payload: Buffer;
  /** For method frames: class << 16 | method. */
  id?: number;
  fields?: Record<string, unknown>;
}

/** A minimal AMQP client speaking raw frames; for bad-input tests. */
export class RawClient {
  private buf = Buffer.alloc(0);
  readonly frames: RawFrame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  /** Everything received, for header-level checks. */
  raw = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Connects and completes the handshake (guest/guest), ready for channel frames. */
  static async handshake(port: number): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.write(Buffer.from('AMQP\u0000\u0000\u0009\u0001', 'latin1'));
    await c.waitMethod('ConnectionStart');
    c.method(0, 'ConnectionStartOk', {
      clientProperties: { capabilities: { consumer_cancel_notify: true } },
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    });
    const tune = await c.waitMethod('ConnectionTune');
    c.method(0, 'ConnectionTuneOk', { channelMax: tune.fields?.['channelMax'] as number, frameMax: tune.fields?.['frameMax'] as number, heartbeat: 0 });
    c.method(0, 'ConnectionOpen', { virtualHost: '/', capabilities: '', insist: false });
    await c.waitMethod('ConnectionOpenOk');
    return c;
  }

  private parse(): void {
    while (this.buf.length >= 7) {
      const size = this.buf.readUInt32BE(3);
      if (this.buf.length < size + 8) return;
      const f: RawFrame = { type: this.buf[0] as number, channel: this.buf.readUInt16BE(1), payload: this.buf.subarray(7, 7 + size) };
      if (f.type === 1) {
        f.id = f.payload.readUInt32BE(0);
        try {
          f.fields = defs.decode(f.id, f.payload.subarray(4));
        } catch {
          f.fields = {};
        }
      }
      this.frames.push(f);
      this.buf = this.buf.subarray(size + 8);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  method(channel: number, name: string, fields: Record<string, unknown> = {}): void {
    this.write(defs.encodeMethod(methodId(name), channel, fields));
  }

  /** Waits for the first unconsumed method frame called `name` (removes it). */
  async waitMethod(name: string, timeoutMs = 3000): Promise<RawFrame> {
    const id = methodId(name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f) => f.id === id);
      if (i >= 0) return this.frames.splice(i, 1)[0] as RawFrame;
      if (this.closed) throw new Error(`socket closed while waiting for ${name}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${name}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the socket to close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Whether expectConnectionClose also waits for the broker to hang up. RabbitMQ lingers
   * ~3 s after a frame error, so its variant only checks the close frame.
   */
  awaitHangUp = true;

  /** Waits for connection.close, answers close-ok and returns the reply code. */
  async expectConnectionClose(): Promise<number> {
    const f = await this.waitMethod('ConnectionClose');
    if (!this.closed) this.method(0, 'ConnectionCloseOk');
    if (this.awaitHangUp) await this.waitClosed();
    return f.fields?.['replyCode'] as number;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves with the first `n` messages consumed from `queue` (manual ack unless noAck). */
export function take(
  ch: import('amqplib').Channel,
  queue: string,
  n: number,
  opts: { noAck?: boolean; ack?: boolean; timeoutMs?: number } = {},
): Promise<import('amqplib').ConsumeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: import('amqplib').ConsumeMessage[] = [];
    const tag = uniq('ctag');
    const timer = setTimeout(() => reject(new Error(`timed out: got ${got.length} of ${n} from ${queue}`)), opts.timeoutMs ?? 5000);
    ch.consume(
      queue,
      (m) => {
        if (m === null) return;
        got.push(m);
        if (opts.ack === true) ch.ack(m);
        if (got.length === n) {
          clearTimeout(timer);
          void ch.cancel(tag).then(() => resolve(got), reject);
        }
      },
      { noAck: opts.noAck ?? false, consumerTag: tag },
    ).catch(reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
