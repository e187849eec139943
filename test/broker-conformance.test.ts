/**
 * One AMQP 0-9-1 conformance suite, run with amqplib against the embedded broker and,
 * when AMQP_URL is set, against RabbitMQ. Where the two could differ, the expectation
 * is RabbitMQ's (checked against RabbitMQ 3.10).
 */
import { type Channel, type ConfirmChannel, type ChannelModel, type GetMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { open, sleep, take, targets, uniq } from './broker-support.js';

type Conn = ChannelModel & { closedWith: () => Error | null };

describe.each(targets)('AMQP conformance on $target.name', ({ target, skip }) => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  let conn: Conn;
  const cleanup: ((ch: Channel) => Promise<unknown>)[] = [];
  const extraConns: Conn[] = [];

  beforeAll(async () => {
    if (skip) return;
    const t = await target.start();
    url = t.url;
    stop = t.stop;
    conn = await open(url);
  });

  afterEach(async () => {
    if (skip) return;
    for (const c of extraConns.splice(0)) await c.close().catch(() => {});
    const ch = await conn.createChannel();
    for (const f of cleanup.splice(0)) await f(ch).catch(() => {});
    await ch.close();
  });

  afterAll(async () => {
    if (skip) return;
    await conn?.close().catch(() => {});
    await stop();
  });

  async function channel(): Promise<Channel> {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    return ch;
  }

  async function confirmChannel(): Promise<ConfirmChannel> {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    return ch;
  }

  async function queue(ch: Channel, options: Parameters<Channel['assertQueue']>[1] = {}, name = uniq('q')): Promise<string> {
    const ok = await ch.assertQueue(name, options);
    cleanup.push((c) => c.deleteQueue(ok.queue));
    return ok.queue;
  }

  async function exchange(ch: Channel, type: string, name = uniq('x')): Promise<string> {
    await ch.assertExchange(name, type, { durable: false });
    cleanup.push((c) => c.deleteExchange(name));
    return name;
  }

  async function extraConnection(): Promise<Conn> {
    const c = await open(url);
    extraConns.push(c);
    return c;
  }

  async function getAll(ch: Channel, q: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (m === false) return out;
      out.push(m.content.toString());
    }
  }

  it.skipIf(skip)('routes topic keys with * and #', async () => {
    const ch = await channel();
    const x = await exchange(ch, 'topic');
    const star = await queue(ch);
    const hash = await queue(ch);
    const all = await queue(ch);
    await ch.bindQueue(star, x, 'order.*');
    await ch.bindQueue(hash, x, 'order.#');
    await ch.bindQueue(all, x, '#');
    for (const k of ['order', 'order.placed', 'order.placed.eu', 'payment.done']) ch.publish(x, k, Buffer.from(k));
    await ch.checkQueue(star); // round trip: publishes before it are routed
    expect(await getAll(ch, star)).toEqual(['order.placed']);
    expect(await getAll(ch, hash)).toEqual(['order', 'order.placed', 'order.placed.eu']);
    expect(await getAll(ch, all)).toEqual(['order', 'order.placed', 'order.placed.eu', 'payment.done']);
  });

  it.skipIf(skip)('routes direct and fanout exchanges, and the default exchange by queue name', async () => {
    const ch = await channel();
    const direct = await exchange(ch, 'direct');
    const fanout = await exchange(ch, 'fanout');
    const a = await queue(ch);
    const b = await queue(ch);
    await ch.bindQueue(a, direct, 'red');
    await ch.bindQueue(b, direct, 'blue');
    await ch.bindQueue(a, fanout, 'ignored');
    await ch.bindQueue(b, fanout, '');
    ch.publish(direct, 'red', Buffer.from('r'));
    ch.publish(direct, 'green', Buffer.from('g'));
    ch.publish(fanout, 'anything', Buffer.from('f'));
    ch.sendToQueue(b, Buffer.from('d'));
    await ch.checkQueue(a);
    expect(await getAll(ch, a)).toEqual(['r', 'f']);
    expect(await getAll(ch, b)).toEqual(['f', 'd']);
  });

  it.skipIf(skip)('stops routing after queue.unbind and reports purge/delete counts', async () => {
    const ch = await channel();
    const x = await exchange(ch, 'direct');
    const q = await queue(ch);
    await ch.bindQueue(q, x, 'k');
    ch.publish(x, 'k', Buffer.from('1'));
    ch.publish(x, 'k', Buffer.from('2'));
    await ch.unbindQueue(q, x, 'k');
    ch.publish(x, 'k', Buffer.from('3'));
    expect((await ch.checkQueue(q)).messageCount).toBe(2);
    expect((await ch.purgeQueue(q)).messageCount).toBe(2);
    ch.sendToQueue(q, Buffer.from('4'));
    expect(await ch.deleteQueue(q)).toEqual({ messageCount: 1 });
    expect(await ch.deleteQueue(uniq('never'))).toEqual({ messageCount: 0 });
  });

  it.skipIf(skip)('splits large bodies at frame-max both ways', async () => {
    const c = await extraConnection();
    const small = await open(`${url}?frameMax=4096`);
    extraConns.push(small);
    const ch = await small.createChannel();
    const q = await queue(ch);
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    ch.sendToQueue(q, body, { contentType: 'application/octet-stream', headers: { n: 1 } });
    const ch2 = await c.createChannel();
    await ch.checkQueue(q);
    const m = (await ch2.get(q, { noAck: true })) as GetMessage;
    expect(m.content.equals(body)).toBe(true);
    expect(m.properties.contentType).toBe('application/octet-stream');
    expect(m.properties.headers).toMatchObject({ n: 1 });
  });

  it.skipIf(skip)('declares exchanges passively and refuses inequivalent or in-use ones', async () => {
    const ch = await channel();
    await expect(ch.checkExchange(uniq('missing'))).rejects.toMatchObject({ code: 404 });
    const ch2 = await channel();
    const x = await exchange(ch2, 'direct');
    await expect(ch2.checkExchange(x)).resolves.toBeDefined();
    await expect(ch2.assertExchange(x, 'fanout', { durable: false })).rejects.toMatchObject({ code: 406 });
    const ch3 = await channel();
    const q = await queue(ch3);
    await ch3.bindQueue(q, x, 'k');
    await expect(ch3.deleteExchange(x, { ifUnused: true })).rejects.toMatchObject({ code: 406 });
    const ch4 = await channel();
    await expect(ch4.assertExchange(uniq('x'), 'direct', { durable: true, autoDelete: true })).resolves.toBeDefined();
    await expect(ch4.deleteExchange('amq.direct')).rejects.toMatchObject({ code: 403 });
  });

  it.skipIf(skip)('declares server-named, passive and exclusive queues as RabbitMQ does', async () => {
    const ch = await channel();
    const named = await ch.assertQueue('', { exclusive: true });
    expect(named.queue).toMatch(/^amq\.gen-/);
    expect(named).toMatchObject({ messageCount: 0, consumerCount: 0 });
    await expect(ch.checkQueue(uniq('missing'))).rejects.toMatchObject({ code: 404 });
    const other = await (await extraConnection()).createChannel();
    other.on('error', () => {});
    await expect(other.checkQueue(named.queue)).rejects.toMatchObject({ code: 405 });
    const ch2 = await channel();
    await expect(ch2.assertQueue('amq.reserved', {})).rejects.toMatchObject({ code: 403 });
    const ch3 = await channel();
    const q = await queue(ch3, { arguments: { 'x-message-ttl': 100 } });
    await expect(ch3.assertQueue(q, { arguments: { 'x-message-ttl': 200 } })).rejects.toMatchObject({ code: 406 });
    const ch4 = await channel();
    await expect(ch4.assertQueue(uniq('q'), { deadLetterRoutingKey: 'k' })).rejects.toMatchObject({ code: 406 });
  });

  it.skipIf(skip)('deletes an exclusive queue with its connection and an auto-delete queue with its last consumer', async () => {
    const c = await extraConnection();
    const ch = await c.createChannel();
    const excl = (await ch.assertQueue('', { exclusive: true })).queue;
    const auto = (await ch.assertQueue(uniq('auto'), { autoDelete: true })).queue;
    const { consumerTag } = await ch.consume(auto, () => {});
    const probe = await channel();
    expect((await probe.checkQueue(auto)).consumerCount).toBe(1);
    await ch.cancel(consumerTag);
    await expect(probe.checkQueue(auto)).rejects.toMatchObject({ code: 404 });
    await c.close();
    const probe2 = await channel();
    await expect(probe2.checkQueue(excl)).rejects.toMatchObject({ code: 404 });
  });

  it.skipIf(skip)('answers basic.get and get-empty with message counts', async () => {
    const ch = await channel();
    const q = await queue(ch);
    expect(await ch.get(q)).toBe(false);
    ch.sendToQueue(q, Buffer.from('a'));
    ch.sendToQueue(q, Buffer.from('b'));
    await ch.checkQueue(q);
    const m = (await ch.get(q)) as GetMessage;
    expect(m.content.toString()).toBe('a');
    expect(m.fields).toMatchObject({ redelivered: false, exchange: '', routingKey: q, messageCount: 1 });
    ch.reject(m, true);
    const again = (await ch.get(q)) as GetMessage;
    expect(again.content.toString()).toBe('a');
    expect(again.fields.redelivered).toBe(true);
    ch.ack(again);
    await expect(ch.get(uniq('missing'))).rejects.toMatchObject({ code: 404 });
  });

  it.skipIf(skip)('returns unroutable mandatory messages and still confirms them', async () => {
    const ch = await confirmChannel();
    const x = await exchange(ch, 'direct');
    const returned = new Promise<{ code: number; key: string; body: string }>((resolve) => {
      ch.once('return', (m) => resolve({ code: m.fields.replyCode as number, key: m.fields.routingKey, body: m.content.toString() }));
    });
    const confirmed = new Promise<unknown>((resolve) => ch.publish(x, 'nowhere', Buffer.from('lost'), { mandatory: true }, (err) => resolve(err)));
    expect(await returned).toEqual({ code: 312, key: 'nowhere', body: 'lost' });
    expect(await confirmed).toBeNull();
  });

  it.skipIf(skip)('confirms every publish and nacks what a full reject-publish queue refuses', async () => {
    const ch = await confirmChannel();
    const q = await queue(ch);
    for (let i = 0; i < 500; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await ch.waitForConfirms();
    expect((await ch.checkQueue(q)).messageCount).toBe(500);
    const full = await queue(ch, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const results = await Promise.all(
      ['a', 'b'].map((b) => new Promise<boolean>((resolve) => ch.sendToQueue(full, Buffer.from(b), {}, (err) => resolve(err === null)))),
    );
    expect(results).toEqual([true, false]);
  });

  it.skipIf(skip)('limits unacked deliveries per consumer (basic.qos global=false)', async () => {
    const ch = await channel();
    const q = await queue(ch);
    for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await ch.prefetch(2, false);
    const got: import('amqplib').ConsumeMessage[] = [];
    await ch.consume(q, (m) => m && got.push(m));
    await sleep(150);
    expect(got.map((m) => m.content.toString())).toEqual(['0', '1']);
    ch.ack(got[0] as import('amqplib').ConsumeMessage);
    await sleep(150);
    expect(got.map((m) => m.content.toString())).toEqual(['0', '1', '2']);
    ch.ack(got[2] as import('amqplib').ConsumeMessage, true);
    await sleep(150);
    expect(got).toHaveLength(5);
  });

  it.skipIf(skip)('shares a channel-wide limit between consumers (basic.qos global=true)', async () => {
    const ch = await channel();
    const q1 = await queue(ch);
    const q2 = await queue(ch);
    for (let i = 0; i < 5; i++) {
      ch.sendToQueue(q1, Buffer.from('a'));
      ch.sendToQueue(q2, Buffer.from('b'));
    }
    await ch.prefetch(3, true);
    let n = 0;
    await ch.consume(q1, () => n++);
    await ch.consume(q2, () => n++);
    await sleep(200);
    expect(n).toBe(3);
  });

  it.skipIf(skip)('requeues nacked messages as redelivered and dead-letters rejected ones with x-death', async () => {
    const ch = await channel();
    const dlx = await exchange(ch, 'fanout');
    const dlq = await queue(ch);
    await ch.bindQueue(dlq, dlx, '');
    const q = await queue(ch, { deadLetterExchange: dlx });
    ch.sendToQueue(q, Buffer.from('m'));
    const [first] = await take(ch, q, 1);
    ch.nack(first as import('amqplib').ConsumeMessage, false, true);
    const [second] = await take(ch, q, 1);
    expect(second?.fields.redelivered).toBe(true);
    ch.reject(second as import('amqplib').ConsumeMessage, false);
    const [dead] = await take(ch, dlq, 1, { ack: true });
    expect(dead?.content.toString()).toBe('m');
    const death = (dead?.properties.headers?.['x-death'] as unknown as Record<string, unknown>[])[0];
    expect(death).toMatchObject({ count: 1, reason: 'rejected', queue: q, exchange: '', 'routing-keys': [q] });
    expect(dead?.properties.headers?.['x-first-death-reason']).toBe('rejected');
  });

  it.skipIf(skip)('expires messages after x-message-ttl into the dead-letter routing key', async () => {
    const ch = await channel();
    const dlq = await queue(ch);
    const q = await queue(ch, { messageTtl: 30, deadLetterExchange: '', deadLetterRoutingKey: dlq });
    ch.sendToQueue(q, Buffer.from('old'));
    const [dead] = await take(ch, dlq, 1, { ack: true, timeoutMs: 3000 });
    expect(dead?.content.toString()).toBe('old');
    expect(dead?.fields.routingKey).toBe(dlq);
    expect((dead?.properties.headers?.['x-death'] as unknown as Record<string, unknown>[])[0]).toMatchObject({ reason: 'expired', queue: q });
    expect((await ch.checkQueue(q)).messageCount).toBe(0);
  });

  it.skipIf(skip)('drops the head beyond x-max-length and dead-letters it as maxlen', async () => {
    const ch = await channel();
    const dlq = await queue(ch);
    const q = await queue(ch, { maxLength: 2, deadLetterExchange: '', deadLetterRoutingKey: dlq });
    for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
    await ch.checkQueue(q);
    expect(await getAll(ch, q)).toEqual(['2', '3']);
    const [dead] = await take(ch, dlq, 1, { ack: true });
    expect(dead?.content.toString()).toBe('1');
    expect(dead?.properties.headers?.['x-first-death-reason']).toBe('maxlen');
  });

  it.skipIf(skip)('drops a message caught in a dead-letter cycle without a rejection', async () => {
    const ch = await channel();
    const a = uniq('cycle-a');
    const b = uniq('cycle-b');
    await queue(ch, { maxLength: 0, deadLetterExchange: '', deadLetterRoutingKey: b }, a);
    await queue(ch, { messageTtl: 10, deadLetterExchange: '', deadLetterRoutingKey: a }, b);
    // and a cycle that would recurse synchronously (both queues overflow at once)
    const c = uniq('cycle-c');
    const d = uniq('cycle-d');
    await queue(ch, { maxLength: 0, deadLetterExchange: '', deadLetterRoutingKey: d }, c);
    await queue(ch, { maxLength: 0, deadLetterExchange: '', deadLetterRoutingKey: c }, d);
    ch.sendToQueue(a, Buffer.from('loop'));
    ch.sendToQueue(c, Buffer.from('loop'));
    await sleep(300);
    const depths = await Promise.all([a, b, c, d].map(async (q) => (await ch.checkQueue(q)).messageCount));
    expect(depths).toEqual([0, 0, 0, 0]);
  });

  it.skipIf(skip)('acks multiple, redelivers on basic.recover, and requeues unacked messages on channel close', async () => {
    const ch = await channel();
    const q = await queue(ch);
    for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    const msgs = await take(ch, q, 4);
    ch.ack(msgs[1] as import('amqplib').ConsumeMessage, true); // acks 0 and 1
    await ch.recover();
    const again = await take(ch, q, 2);
    expect(again.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
      ['2', true],
      ['3', true],
    ]);
    await ch.close();
    const ch2 = await channel();
    expect((await ch2.checkQueue(q)).messageCount).toBe(2);
    const m = (await ch2.get(q, { noAck: true })) as GetMessage;
    expect([m.content.toString(), m.fields.redelivered]).toEqual(['2', true]);
  });

  it.skipIf(skip)('stops delivering after basic.cancel and tells consumers when their queue is deleted', async () => {
    const ch = await channel();
    const q = await queue(ch);
    let n = 0;
    const { consumerTag } = await ch.consume(q, () => n++, { noAck: true });
    ch.sendToQueue(q, Buffer.from('1'));
    await sleep(50);
    await ch.cancel(consumerTag);
    ch.sendToQueue(q, Buffer.from('2'));
    await ch.checkQueue(q);
    expect(n).toBe(1);
    const cancelled = new Promise<null>((resolve) => void ch.consume(q, (m) => m === null && resolve(null)));
    const other = await channel();
    await other.deleteQueue(q);
    expect(await cancelled).toBeNull();
  });

  it.skipIf(skip)('closes the channel with 406 on an unknown delivery tag and 404 on a missing exchange', async () => {
    const ch = await channel();
    const closed = new Promise<unknown>((resolve) => ch.once('error', resolve));
    const q = await queue(await channel());
    ch.ack({ fields: { deliveryTag: 42 } } as unknown as import('amqplib').Message);
    await expect(closed).resolves.toMatchObject({ code: 406 });
    const ch2 = await channel();
    const closed2 = new Promise<unknown>((resolve) => ch2.once('error', resolve));
    ch2.publish(uniq('missing'), 'k', Buffer.from('x'));
    await expect(closed2).resolves.toMatchObject({ code: 404 });
    // the connection survives channel errors
    const ch3 = await channel();
    expect((await ch3.checkQueue(q)).queue).toBe(q);
  });

  it.skipIf(skip)('delivers a backlog larger than the socket buffers to a no-ack consumer', async () => {
    const ch = await confirmChannel();
    const q = await queue(ch);
    const body = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 160; i++) ch.sendToQueue(q, body);
    await ch.waitForConfirms();
    const sub = await channel();
    const got = await take(sub, q, 160, { noAck: true, timeoutMs: 10_000 });
    expect(got.every((m) => m.content.length === body.length)).toBe(true);
  });

  it.skipIf(skip)('routes headers exchanges with x-match all/any and follows exchange-to-exchange bindings', async () => {
    const ch = await channel();
    const hx = await exchange(ch, 'headers');
    const all = await queue(ch);
    const any = await queue(ch);
    await ch.bindQueue(all, hx, '', { 'x-match': 'all', kind: 'order', region: 'eu' });
    await ch.bindQueue(any, hx, '', { 'x-match': 'any', kind: 'order', region: 'eu' });
    ch.publish(hx, '', Buffer.from('both'), { headers: { kind: 'order', region: 'eu' } });
    ch.publish(hx, '', Buffer.from('one'), { headers: { kind: 'order', region: 'us' } });
    ch.publish(hx, '', Buffer.from('none'), { headers: { kind: 'payment' } });
    const source = await exchange(ch, 'topic');
    const middle = await exchange(ch, 'fanout');
    const viaE2e = await queue(ch);
    await ch.bindExchange(middle, source, 'order.#');
    await ch.bindQueue(viaE2e, middle, '');
    ch.publish(source, 'order.placed', Buffer.from('routed'));
    ch.publish(source, 'payment.done', Buffer.from('dropped'));
    await ch.unbindExchange(middle, source, 'order.#');
    ch.publish(source, 'order.placed', Buffer.from('after-unbind'));
    await ch.checkQueue(all);
    expect(await getAll(ch, all)).toEqual(['both']);
    expect(await getAll(ch, any)).toEqual(['both', 'one']);
    expect(await getAll(ch, viaE2e)).toEqual(['routed']);
  });

  it.skipIf(skip)('expires messages by their expiration property and refuses an invalid one with 406', async () => {
    const ch = await channel();
    const dlq = await queue(ch);
    const q = await queue(ch, { deadLetterExchange: '', deadLetterRoutingKey: dlq });
    ch.sendToQueue(q, Buffer.from('short-lived'), { expiration: '20', headers: { h: 1 } });
    const [dead] = await take(ch, dlq, 1, { ack: true, timeoutMs: 3000 });
    expect(dead?.properties.expiration).toBeUndefined();
    expect(dead?.properties.headers?.['h']).toBe(1);
    expect((dead?.properties.headers?.['x-death'] as unknown as Record<string, unknown>[])[0]).toMatchObject({
      reason: 'expired',
      'original-expiration': '20',
    });
    const bad = await channel();
    const closed = new Promise<unknown>((resolve) => bad.once('error', resolve));
    bad.sendToQueue(q, Buffer.from('x'), { expiration: 'soon' });
    await expect(closed).resolves.toMatchObject({ code: 406 });
  });

  it.skipIf(skip)('accepts connection.update-secret', async () => {
    const c = await extraConnection();
    await expect(c.updateSecret(Buffer.from('guest'), 'rotation')).resolves.toBeUndefined();
    const ch = await c.createChannel();
    await ch.assertQueue('', { exclusive: true });
  });

  it.skipIf(skip)('closes the connection with 530 when a consumer tag is reused', async () => {
    const c = await extraConnection();
    const ch = await c.createChannel();
    ch.on('error', () => {});
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.consume(q, () => {}, { consumerTag: 'dup' });
    const closed = new Promise<unknown>((resolve) => c.once('close', resolve));
    await expect(ch.consume(q, () => {}, { consumerTag: 'dup' })).rejects.toBeDefined();
    await expect(closed).resolves.toMatchObject({ code: 530 });
  });
});
