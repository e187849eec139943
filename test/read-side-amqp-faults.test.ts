/**
 * The AMQP read (queue, saga-choreography) takes the fault network's hops: the request
 * and the reply cross the client's broker connection (`amqp:client`) and the orders
 * service's (`amqp:orders`), so a fault on either holds the read — it times out — and the
 * next read after the fault heals is answered again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultNetwork } from '../src/faults/network.js';
import { queuePattern } from '../src/patterns/queue/index.js';
import { sagaChoreographyPattern } from '../src/patterns/saga-choreography/index.js';
import { isOrderReader, type RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

let net: FaultNetwork | undefined;
let running: RunningPattern | undefined;
afterEach(async () => {
  await running?.stop();
  await net?.close();
  running = undefined;
  net = undefined;
});

const bytesOn = (n: FaultNetwork, hop: string): number => {
  const s = n.stats().find((h) => h.hop === hop);
  if (!s) throw new Error(`no hop ${hop}; hops: ${n.hops().join(', ')}`);
  return s.bytesUpstream + s.bytesDownstream;
};

describe.each([queuePattern, sagaChoreographyPattern])('$id', (pattern) => {
  it('sends the read over the client’s and the orders service’s proxied broker connections', async () => {
    net = new FaultNetwork(seededRandom(7));
    const started = await startPattern(pattern, { placement: 'same-thread' }, net);
    running = started.running;
    await loadAndCheck(running, started.generator, { durationMs: 100 });
    if (!isOrderReader(running)) throw new Error(`${pattern.id} has no read side`);
    await running.customerOrders('nobody-ever'); // opens the reply channel
    const before = { client: bytesOn(net, 'amqp:client'), orders: bytesOn(net, 'amqp:orders'), payments: bytesOn(net, 'amqp:payments') };
    expect(await running.customerOrders('nobody-ever')).toEqual([]);
    expect(bytesOn(net, 'amqp:client')).toBeGreaterThan(before.client);
    expect(bytesOn(net, 'amqp:orders')).toBeGreaterThan(before.orders);
    expect(bytesOn(net, 'amqp:payments')).toBe(before.payments);
  }, 30_000);

  it('times the read out while the orders service’s hop is a black hole, and answers again once it heals', async () => {
    net = new FaultNetwork(seededRandom(7));
    const started = await startPattern(pattern, { placement: 'same-thread' }, net);
    running = started.running;
    await loadAndCheck(running, started.generator, { durationMs: 100 });
    if (!isOrderReader(running)) throw new Error(`${pattern.id} has no read side`);
    const fault = net.addFault('amqp:orders', { type: 'timeout', direction: 'upstream' });
    await expect(running.customerOrders('nobody-ever')).rejects.toMatchObject({
      code: 'PB_ERR_READ_TIMEOUT',
      message: 'query.customer-orders: no reply for customer "nobody-ever" within 5000 ms',
    });
    net.removeFault('amqp:orders', fault);
    expect(await running.customerOrders('nobody-ever')).toEqual([]);
  }, 30_000);
});
