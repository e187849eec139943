/**
 * Property-based fuzzing of the embedded broker's framing: arbitrary bytes and
 * well-framed random methods after a valid handshake never crash the broker or leak
 * an internal error, and a fresh amqplib connection still works afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../src/broker/index.js';
import { FrameParser } from '../src/broker/frame-parser.js';
import { defs, open, RawClient, sleep } from './broker-support.js';

const KNOWN_METHODS = Object.entries(defs)
  .filter(([k, v]) => /^[A-Z]/.test(k) && typeof v === 'number' && v > 0xffff)
  .map(([, v]) => v as number);

function frame(type: number, channel: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(payload.length + 8);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(payload.length, 3);
  Buffer.from(payload).copy(b, 7);
  b[payload.length + 7] = 0xce;
  return b;
}

const methodPayload = fc
  .tuple(fc.constantFrom(...KNOWN_METHODS), fc.uint8Array({ maxLength: 48 }))
  .map(([id, args]) => {
    const b = Buffer.alloc(4 + args.length);
    b.writeUInt32BE(id, 0);
    Buffer.from(args).copy(b, 4);
    return b;
  });

const contentHeader = fc
  .tuple(fc.integer({ min: 0, max: 64 }), fc.uint8Array({ maxLength: 16 }))
  .map(([size, props]) => {
    const b = Buffer.alloc(12 + 2 + props.length);
    b.writeUInt16BE(60, 0);
    b.writeUInt32BE(size, 8);
    Buffer.from(props).copy(b, 12);
    return b;
  });

const framed = fc.array(
  fc.oneof(
    fc.tuple(fc.constant(1), fc.constantFrom(0, 1, 2), methodPayload),
    fc.tuple(fc.constant(2), fc.constantFrom(1, 2), contentHeader),
    fc.tuple(fc.constantFrom(1, 2, 3, 4, 8), fc.constantFrom(0, 1, 2, 65535), fc.uint8Array({ maxLength: 40 })),
  ),
  { minLength: 1, maxLength: 8 },
).map((frames) => Buffer.concat(frames.map(([t, c, p]) => frame(t, c, p))));

/** 150 runs in CI (~3 s); PB_FUZZ_RUNS raises it for a longer local soak. */
const FUZZ_RUNS = Number(process.env['PB_FUZZ_RUNS'] ?? 150);

const input = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)), framed);

describe('embedded broker under fuzzed frames', () => {
  let broker: EmbeddedBroker;
  const logs: string[] = [];

  beforeAll(async () => {
    broker = await startBroker({ log: (l) => logs.push(l) });
  });

  afterAll(async () => {
    await broker.stop();
  });

  it('never crashes on arbitrary bytes after a valid handshake', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.integer({ min: 1, max: 64 }), async (bytes, chunk) => {
        const c = await RawClient.handshake(broker.port);
        c.method(1, 'ChannelOpen');
        await c.waitMethod('ChannelOpenOk');
        for (let i = 0; i < bytes.length; i += chunk) c.write(bytes.subarray(i, i + chunk));
        await Promise.race([c.waitClosed(100).catch(() => {}), sleep(15)]);
        c.destroy();
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(logs.filter((l) => l.includes('internal error'))).toEqual([]);
    const conn = await open(broker.url);
    const ch = await conn.createConfirmChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    ch.sendToQueue(q, Buffer.from('alive'));
    await ch.waitForConfirms();
    const m = await ch.get(q, { noAck: true });
    expect(m !== false && m.content.toString()).toBe('alive');
    await conn.close();
    for (let i = 0; i < 50 && broker.stats().connections > 0; i++) await sleep(20);
    expect(broker.stats().connections).toBe(0);
  }, 30_000 + FUZZ_RUNS * 40);

  it('never crashes on arbitrary bytes during the handshake', async () => {
    const start = Buffer.from('AMQP\u0000\u0000\u0009\u0001', 'latin1');
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 200 }), async (withHeader, bytes) => {
        const c = await RawClient.connect(broker.port);
        c.write(withHeader ? Buffer.concat([start, bytes]) : Buffer.from(bytes));
        await Promise.race([c.waitClosed(100).catch(() => {}), sleep(10)]);
        c.destroy();
      }),
      { numRuns: 100 },
    );
    expect(logs.filter((l) => l.includes('internal error'))).toEqual([]);
    for (let i = 0; i < 50 && broker.stats().connections > 0; i++) await sleep(20);
    expect(broker.stats().connections).toBe(0);
  });

  it('closes with 501 on absurdly nested field tables instead of overflowing the stack', async () => {
    // queue.declare whose arguments nest a table 10 000 levels deep
    let table = Buffer.alloc(4);
    for (let i = 0; i < 10_000; i++) {
      const entry = Buffer.concat([Buffer.from([1, 0x61, 0x46]), table]);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(entry.length, 0);
      table = Buffer.concat([len, entry]);
    }
    const head = Buffer.from([0, 50, 0, 10, 0, 0, 1, 0x71, 0]);
    const c = await RawClient.handshake(broker.port);
    c.method(1, 'ChannelOpen');
    await c.waitMethod('ChannelOpenOk');
    c.write(frame(1, 1, Buffer.concat([head, table])));
    expect(await c.expectConnectionClose()).toBe(501);
    expect(logs.some((l) => l.includes('FRAME_ERROR - cannot decode field table: nested deeper than 64'))).toBe(true);
    expect(logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });

  it('splits a byte stream into the same frames however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 8), fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(([t, c, p]) => frame(t, c, p)));
          const seen: [number, number, string][] = [];
          const parser = new FrameParser(131072, (type, channel, buf, start, end) => {
            seen.push([type, channel, buf.subarray(start, end).toString('hex')]);
          });
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length] as number;
            parser.push(stream.subarray(pos, pos + n));
            pos += n;
          }
          expect(seen).toEqual(frames.map(([t, c, p]) => [t, c, Buffer.from(p).toString('hex')]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
