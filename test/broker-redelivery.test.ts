/**
 * No message is lost: a consumer's connection is killed mid-batch (socket destroyed) and
 * every message it had not acked is redelivered exactly once, redelivered=true, to
 * another consumer. Same test on the embedded broker and, with AMQP_URL, RabbitMQ.
 */
import { type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, sleep, targets, uniq } from './broker-support.js';

const TOTAL = 300;

describe.each(targets)('redelivery after a consumer dies on $target.name', ({ target, skip }) => {
  let url = '';
  let stop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    if (skip) return;
    const t = await target.start();
    url = t.url;
    stop = t.stop;
  });

  afterAll(async () => {
    if (!skip) await stop();
  });

  it.skipIf(skip)('redelivers every unacked message exactly once to another consumer', async () => {
    const q = uniq('crash');
    const producer = await open(url);
    const pch = await producer.createConfirmChannel();
    await pch.assertQueue(q);
    for (let i = 0; i < TOTAL; i++) pch.sendToQueue(q, Buffer.from(String(i)));
    await pch.waitForConfirms();

    // Consumer A: prefetch 50, acks the first 20 it sees, then its socket is destroyed.
    const a = await open(url);
    const ach = await a.createChannel();
    ach.on('error', () => {});
    await ach.prefetch(50);
    const seenByA: number[] = [];
    const ackedByA: number[] = [];
    const batch = new Promise<void>((resolve) => {
      void ach.consume(q, (m) => {
        if (m === null) return;
        const n = Number(m.content.toString());
        seenByA.push(n);
        if (ackedByA.length < 20) {
          ach.ack(m);
          ackedByA.push(n);
        }
        if (seenByA.length === 50) resolve();
      });
    });
    await batch;
    // A round trip on the same channel: the broker has processed A's acks before it.
    await ach.checkQueue(q);
    (a.connection as unknown as { stream: Socket }).stream.destroy();

    // Consumer B takes everything that is left.
    const b = await open(url);
    const bch = await b.createChannel();
    await bch.prefetch(100);
    const got = new Map<number, number>();
    const redelivered = new Set<number>();
    const expected = TOTAL - ackedByA.length;
    await new Promise<void>((resolve) => {
      void bch.consume(q, (m) => {
        if (m === null) return;
        const n = Number(m.content.toString());
        got.set(n, (got.get(n) ?? 0) + 1);
        if (m.fields.redelivered) redelivered.add(n);
        bch.ack(m);
        if ([...got.values()].reduce((s, x) => s + x, 0) === expected) resolve();
      });
    });
    await sleep(100); // nothing more may arrive
    const total = [...got.values()].reduce((s, x) => s + x, 0);
    expect(total).toBe(expected);
    expect([...got.values()].every((x) => x === 1)).toBe(true);
    for (const n of ackedByA) expect(got.has(n)).toBe(false);
    const unackedByA = seenByA.filter((n) => !ackedByA.includes(n));
    expect(unackedByA.length).toBeGreaterThanOrEqual(30);
    for (const n of unackedByA) expect(redelivered.has(n)).toBe(true);
    expect(new Set([...got.keys(), ...ackedByA]).size).toBe(TOTAL);

    await pch.deleteQueue(q);
    await b.close();
    await producer.close();
  });
});
