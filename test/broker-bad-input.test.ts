/**
 * Bad input over raw sockets: each case closes only the offending connection with the
 * reply code RabbitMQ uses, while a connection opened beforehand keeps working.
 * Runs against the embedded broker and, with AMQP_URL, RabbitMQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, RawClient, targets, uniq } from './broker-support.js';

const HEADER = Buffer.from('AMQP\u0000\u0000\u0009\u0001', 'latin1');

function frame(type: number, channel: number, payload: Buffer, end = 0xce): Buffer {
  const b = Buffer.alloc(payload.length + 8);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(payload.length, 3);
  payload.copy(b, 7);
  b[payload.length + 7] = end;
  return b;
}

const CONTENT_HEADER = Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]);

describe.each(targets)('bad input on $target.name', ({ target, skip }) => {
  let port = 0;
  let url = '';
  let stop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    if (skip) return;
    const t = await target.start();
    port = t.port;
    url = t.url;
    stop = t.stop;
  });

  afterAll(async () => {
    if (!skip) await stop();
  });

  /** Runs `bad` on a fresh raw connection while a healthy amqplib connection stays usable. */
  async function survives(bad: (c: RawClient) => Promise<void>): Promise<void> {
    const healthy = await open(url);
    const ch = await healthy.createConfirmChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const c = await RawClient.connect(port);
    c.awaitHangUp = target.name === 'embedded';
    try {
      await bad(c);
    } finally {
      c.destroy();
    }
    ch.sendToQueue(q, Buffer.from('still here'));
    await ch.waitForConfirms();
    const m = await ch.get(q, { noAck: true });
    expect(m !== false && m.content.toString()).toBe('still here');
    expect(healthy.closedWith()).toBeNull();
    await healthy.close();
  }

  async function handshaken(c: RawClient, frameMax?: number): Promise<RawClient> {
    c.write(HEADER);
    await c.waitMethod('ConnectionStart');
    c.method(0, 'ConnectionStartOk', { clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\u0000guest\u0000guest'), locale: 'en_US' });
    const tune = await c.waitMethod('ConnectionTune');
    c.method(0, 'ConnectionTuneOk', { channelMax: tune.fields?.['channelMax'], frameMax: frameMax ?? tune.fields?.['frameMax'], heartbeat: 0 });
    c.method(0, 'ConnectionOpen', { virtualHost: '/' });
    await c.waitMethod('ConnectionOpenOk');
    return c;
  }

  async function openChannel(c: RawClient, ch = 1): Promise<void> {
    c.method(ch, 'ChannelOpen');
    await c.waitMethod('ChannelOpenOk');
  }

  it.skipIf(skip)('answers a wrong protocol header with its own header and closes', async () => {
    await survives(async (c) => {
      c.write(Buffer.from('AMQP\u0000\u0000\u0009\u0002', 'latin1'));
      await c.waitClosed();
      expect(c.raw).toEqual(HEADER);
    });
    await survives(async (c) => {
      c.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await c.waitClosed();
      expect(c.raw).toEqual(HEADER);
    });
  });

  it.skipIf(skip)('closes with 501 FRAME_ERROR on garbage bytes after the handshake', async () => {
    await survives(async (c) => {
      await handshaken(c);
      c.write(Buffer.from('hello, this is not a frame at all'));
      expect(await c.expectConnectionClose()).toBe(501);
    });
  });

  it.skipIf(skip)('closes with 501 FRAME_ERROR on a frame above the (negotiated) frame-max and on a bad frame-end octet', async () => {
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.write(frame(1, 1, Buffer.alloc(200_000)));
      expect(await c.expectConnectionClose()).toBe(501);
    });
    await survives(async (c) => {
      await handshaken(c, 4096);
      await openChannel(c);
      c.write(frame(1, 1, Buffer.alloc(5000)));
      expect(await c.expectConnectionClose()).toBe(501);
    });
    await survives(async (c) => {
      await handshaken(c);
      c.write(frame(1, 1, Buffer.from([0, 20, 0, 10, 0]), 0x00));
      expect(await c.expectConnectionClose()).toBe(501);
    });
  });

  it.skipIf(skip)('closes with 504 CHANNEL_ERROR for a method on an unopened channel or a second channel.open', async () => {
    await survives(async (c) => {
      await handshaken(c);
      c.method(3, 'BasicQos', { prefetchCount: 1 });
      expect(await c.expectConnectionClose()).toBe(504);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.method(1, 'ChannelOpen');
      expect(await c.expectConnectionClose()).toBe(504);
    });
  });

  it.skipIf(skip)('closes with 505 UNEXPECTED_FRAME for content without a method, or a heartbeat on a channel', async () => {
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.write(frame(3, 1, Buffer.from('body')));
      expect(await c.expectConnectionClose()).toBe(505);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.write(frame(2, 1, CONTENT_HEADER));
      expect(await c.expectConnectionClose()).toBe(505);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.method(1, 'BasicPublish', { exchange: '', routingKey: uniq('q') });
      c.write(frame(3, 1, Buffer.from('body without header')));
      expect(await c.expectConnectionClose()).toBe(505);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.write(frame(8, 1, Buffer.alloc(0)));
      expect(await c.expectConnectionClose()).toBe(505);
    });
  });

  it.skipIf(skip)('closes with 501 on an unknown frame type or an undecodable method, 503 on an unknown exchange type', async () => {
    await survives(async (c) => {
      await handshaken(c);
      c.write(frame(9, 0, Buffer.alloc(0)));
      expect(await c.expectConnectionClose()).toBe(501);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.write(frame(1, 1, Buffer.from([0, 50, 0, 10, 0, 0])));
      expect(await c.expectConnectionClose()).toBe(501);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.method(1, 'ExchangeDeclare', { exchange: uniq('x'), type: 'no-such-type', arguments: {} });
      expect(await c.expectConnectionClose()).toBe(503);
    });
  });

  it.skipIf(skip)('accepts channel.flow active=true and refuses active=false and recover requeue=false with 540', async () => {
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.method(1, 'ChannelFlow', { active: true });
      expect((await c.waitMethod('ChannelFlowOk')).fields?.['active']).toBe(true);
      c.method(1, 'ChannelFlow', { active: false });
      expect(await c.expectConnectionClose()).toBe(540);
    });
    await survives(async (c) => {
      await handshaken(c);
      await openChannel(c);
      c.method(1, 'BasicRecover', { requeue: false });
      expect(await c.expectConnectionClose()).toBe(540);
    });
  });

  it.skipIf(skip)('drops a half-received message when its publisher disconnects mid-body', async () => {
    const healthy = await open(url);
    const ch = await healthy.createChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    const c = await handshaken(await RawClient.connect(port));
    await openChannel(c);
    c.method(1, 'BasicPublish', { exchange: '', routingKey: q });
    const header = Buffer.from(CONTENT_HEADER);
    header.writeUInt32BE(100, 8); // body size 100
    c.write(frame(2, 1, header));
    c.write(frame(3, 1, Buffer.alloc(40, 1)));
    c.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await ch.checkQueue(q)).messageCount).toBe(0);
    ch.sendToQueue(q, Buffer.from('whole'));
    expect((await ch.checkQueue(q)).messageCount).toBe(1);
    await healthy.close();
  });

  it.skipIf(skip)('refuses bad credentials with 403 ACCESS_REFUSED', async () => {
    await survives(async (c) => {
      c.write(HEADER);
      await c.waitMethod('ConnectionStart');
      c.method(0, 'ConnectionStartOk', {
        clientProperties: { capabilities: { authentication_failure_close: true } },
        mechanism: 'PLAIN',
        response: Buffer.from('\u0000guest\u0000wrong'),
        locale: 'en_US',
      });
      expect(await c.expectConnectionClose()).toBe(403);
    });
  });

  it.skipIf(skip)('sends heartbeats at the negotiated interval and drops a silent client', async () => {
    const c = await RawClient.connect(port);
    try {
      c.write(HEADER);
      await c.waitMethod('ConnectionStart');
      c.method(0, 'ConnectionStartOk', { clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\u0000guest\u0000guest'), locale: 'en_US' });
      const tune = await c.waitMethod('ConnectionTune');
      c.method(0, 'ConnectionTuneOk', { channelMax: tune.fields?.['channelMax'], frameMax: tune.fields?.['frameMax'], heartbeat: 1 });
      c.method(0, 'ConnectionOpen', { virtualHost: '/' });
      await c.waitMethod('ConnectionOpenOk');
      const started = Date.now();
      await c.waitClosed(6000);
      const elapsed = Date.now() - started;
      expect(c.frames.filter((f) => f.type === 8).length).toBeGreaterThanOrEqual(1);
      expect(elapsed).toBeGreaterThan(1500);
    } finally {
      c.destroy();
    }
  });
});
