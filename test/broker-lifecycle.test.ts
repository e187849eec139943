/**
 * The embedded broker's own API: options, url, server properties, stats(), the CLI entry
 * point, and stop() leaving no handle behind even with clients and timers still live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBrokerCommand, startBroker, type EmbeddedBroker } from '../src/broker/index.js';
import { InvalidOptionError } from '../src/errors.js';
import { open, RawClient, sleep } from './broker-support.js';

function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Handle kinds of which more are open now than in `before`. */
function leaked(before: Map<string, number>): string[] {
  return [...handles()].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k, n]) => `${k}×${n - (before.get(k) ?? 0)}`);
}

describe('embedded broker lifecycle', () => {
  let broker: EmbeddedBroker | null = null;

  afterEach(async () => {
    await broker?.stop();
    broker = null;
  });

  it('listens on 127.0.0.1 with an ephemeral port and names itself in connection.start', async () => {
    broker = await startBroker();
    expect(broker.url).toBe(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    expect(broker.port).toBeGreaterThan(0);
    const c = await open(broker.url);
    expect(c.connection.serverProperties).toMatchObject({ product: 'pattern-bench embedded broker', version: broker.version });
    expect(broker.product).toBe('pattern-bench embedded broker');
    await c.close();
  });

  it('authenticates configured users and refuses others', async () => {
    broker = await startBroker({ users: { alice: 's3cret' } });
    expect(broker.url).toBe(`amqp://alice:s3cret@127.0.0.1:${broker.port}`);
    const c = await open(broker.url);
    await c.close();
    await expect(open(`amqp://guest:guest@127.0.0.1:${broker.port}`)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('rejects invalid options with InvalidOptionError', async () => {
    await expect(startBroker({ frameMax: 1000 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(startBroker({ port: -1 })).rejects.toThrow('invalid value for port: -1 (expected an integer from 0 to 65535)');
    await expect(startBroker({ heartbeat: 1.5 })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('reports queue depth, unacked and consumers, and the connection count', async () => {
    broker = await startBroker();
    const c = await open(broker.url);
    const ch = await c.createConfirmChannel();
    await ch.assertQueue('stats-q');
    for (let i = 0; i < 5; i++) ch.sendToQueue('stats-q', Buffer.from('x'));
    await ch.waitForConfirms();
    await ch.prefetch(2);
    await ch.consume('stats-q', () => {});
    await sleep(50);
    expect(broker.stats()).toEqual({ connections: 1, queues: [{ name: 'stats-q', depth: 3, unacked: 2, consumers: 1 }] });
    await c.close();
    await sleep(20);
    expect(broker.stats()).toEqual({ connections: 0, queues: [{ name: 'stats-q', depth: 5, unacked: 0, consumers: 0 }] });
  });

  it('stop() closes clients, heartbeat and TTL timers and the server: no handle remains', async () => {
    const before = handles();
    broker = await startBroker({ heartbeat: 1 });
    const c = await open(broker.url);
    const closed = new Promise<unknown>((resolve) => c.once('close', resolve));
    const ch = await c.createChannel();
    await ch.assertQueue('ttl-q', { messageTtl: 60_000 });
    ch.sendToQueue('ttl-q', Buffer.from('lingers'));
    await ch.checkQueue('ttl-q');
    expect(leaked(before)).toEqual(expect.arrayContaining([expect.stringMatching(/^TCPSocketWrap/), expect.stringMatching(/^Timeout/)]));
    await broker.stop();
    broker = null;
    expect(await closed).toMatchObject({ code: 320 });
    await sleep(20);
    expect(leaked(before)).toEqual([]);
  });

  it('enforces the negotiated channel-max with 504 (RabbitMQ 3.10 does not check it)', async () => {
    broker = await startBroker();
    const c = await RawClient.connect(broker.port);
    try {
      c.write(Buffer.from('AMQP\u0000\u0000\u0009\u0001', 'latin1'));
      await c.waitMethod('ConnectionStart');
      c.method(0, 'ConnectionStartOk', { clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\u0000guest\u0000guest'), locale: 'en_US' });
      const tune = await c.waitMethod('ConnectionTune');
      expect(tune.fields).toMatchObject({ channelMax: 2047, frameMax: 131072, heartbeat: 60 });
      c.method(0, 'ConnectionTuneOk', { channelMax: 5, frameMax: 131072, heartbeat: 0 });
      c.method(0, 'ConnectionOpen', { virtualHost: '/' });
      await c.waitMethod('ConnectionOpenOk');
      c.method(5, 'ChannelOpen');
      await c.waitMethod('ChannelOpenOk');
      c.method(6, 'ChannelOpen');
      expect(await c.expectConnectionClose()).toBe(504);
    } finally {
      c.destroy();
    }
  });

  it('runs as the `broker` CLI command', async () => {
    const lines: string[] = [];
    const running = await runBrokerCommand({ port: 0 }, (l) => lines.push(l));
    expect(running.port).toBeGreaterThan(0);
    expect(lines[0]).toBe(`pattern-bench embedded broker 0.1.0 listening on amqp://guest:guest@127.0.0.1:${running.port}`);
    const c = await open(`amqp://guest:guest@127.0.0.1:${running.port}`);
    await c.close();
    await running.close();
    expect(lines.at(-1)).toBe('broker stopped');
  });
});
