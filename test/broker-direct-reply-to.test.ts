/**
 * Direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to): a requester consumes
 * `amq.rabbitmq.reply-to` with no-ack and publishes with that reply-to; the responder's
 * reply to the rewritten address comes straight back on the requester's channel. Same
 * tests on the embedded broker and, with AMQP_URL, RabbitMQ.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, sleep, targets, uniq } from './broker-support.js';

const REPLY_TO = 'amq.rabbitmq.reply-to';

describe.each(targets)('direct reply-to on $target.name', ({ target, skip }) => {
  let url = '';
  let stop: () => Promise<void> = async () => {};
  let requester: ChannelModel;
  let responder: ChannelModel;

  beforeAll(async () => {
    if (skip) return;
    const t = await target.start();
    url = t.url;
    stop = t.stop;
    requester = await open(url);
    responder = await open(url);
  });

  afterAll(async () => {
    if (skip) return;
    await requester.close().catch(() => {});
    await responder.close().catch(() => {});
    await stop();
  });

  async function channel(model: ChannelModel): Promise<Channel> {
    const ch = await model.createChannel();
    ch.on('error', () => {});
    return ch;
  }

  /** A responder on its own connection: answers every request on `queue` with `re:<body>`, recording the reply-to it saw. */
  async function echo(queue: string, seen: string[]): Promise<Channel> {
    const ch = await channel(responder);
    await ch.assertQueue(queue, { exclusive: true });
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        seen.push(String(m.properties.replyTo));
        ch.publish('', String(m.properties.replyTo), Buffer.from(`re:${m.content.toString()}`), { correlationId: m.properties.correlationId as string });
      },
      { noAck: true },
    );
    return ch;
  }

  const closedWith = (ch: Channel): Promise<unknown> => new Promise((resolve) => ch.once('error', resolve));

  it.skipIf(skip)('routes each reply straight back to the requesting channel with its correlation id', async () => {
    const queue = uniq('rpc');
    const seen: string[] = [];
    await echo(queue, seen);
    const ch = await channel(requester);
    const replies: ConsumeMessage[] = [];
    const both = new Promise<void>((resolve) => {
      void ch.consume(REPLY_TO, (m) => m && replies.push(m) === 2 && resolve(), { noAck: true });
    });
    ch.publish('', queue, Buffer.from('a'), { replyTo: REPLY_TO, correlationId: 'c-1' });
    ch.publish('', queue, Buffer.from('b'), { replyTo: REPLY_TO, correlationId: 'c-2' });
    await both;
    expect(replies.map((m) => [m.properties.correlationId, m.content.toString()])).toEqual([
      ['c-1', 're:a'],
      ['c-2', 're:b'],
    ]);
    expect(seen[0]).toMatch(/^amq\.rabbitmq\.reply-to\..+/);
    expect(replies[0]?.fields).toMatchObject({ exchange: '', routingKey: seen[0], redelivered: false });
  });

  it.skipIf(skip)('closes the channel with PRECONDITION_FAILED when the reply consumer would acknowledge', async () => {
    const ch = await channel(requester);
    const closed = closedWith(ch);
    await expect(ch.consume(REPLY_TO, () => {}, { noAck: false })).rejects.toThrow(
      'Operation failed: BasicConsume; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - reply consumer cannot acknowledge"',
    );
    await expect(closed).resolves.toMatchObject({ code: 406 });
  });

  it.skipIf(skip)('closes the channel with PRECONDITION_FAILED when a second reply consumer is set', async () => {
    const ch = await channel(requester);
    await ch.consume(REPLY_TO, () => {}, { noAck: true });
    await expect(ch.consume(REPLY_TO, () => {}, { noAck: true })).rejects.toThrow(
      'Operation failed: BasicConsume; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - reply consumer already set"',
    );
  });

  it.skipIf(skip)('closes the channel with PRECONDITION_FAILED on a publish with that reply-to before consuming it', async () => {
    const ch = await channel(requester);
    const closed = closedWith(ch);
    ch.publish('', uniq('nowhere'), Buffer.from('x'), { replyTo: REPLY_TO });
    await expect(closed).resolves.toMatchObject({
      code: 406,
      message: 'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - fast reply consumer does not exist"',
    });
  });

  it.skipIf(skip)('drops a reply whose requesting channel is gone, and the responder carries on', async () => {
    const queue = uniq('rpc');
    const seen: string[] = [];
    await echo(queue, seen);
    const gone = await channel(requester);
    await gone.consume(REPLY_TO, () => {}, { noAck: true });
    gone.publish('', queue, Buffer.from('late'), { replyTo: REPLY_TO, correlationId: 'c-gone' });
    while (seen.length === 0) await sleep(5);
    await gone.close();
    // The responder's reply to the dead address is confirmed and goes nowhere; its channel stays open.
    const confirm = await responder.createConfirmChannel();
    confirm.on('error', () => {});
    confirm.publish('', String(seen[0]), Buffer.from('too late'));
    await confirm.waitForConfirms();
    const next = await channel(requester);
    const got: string[] = [];
    await next.consume(REPLY_TO, (m) => m && got.push(m.content.toString()), { noAck: true });
    next.publish('', queue, Buffer.from('now'), { replyTo: REPLY_TO, correlationId: 'c-next' });
    while (got.length === 0) await sleep(5);
    expect(got).toEqual(['re:now']);
    await confirm.close();
  });
});
