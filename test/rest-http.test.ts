import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createRestPattern } from '../src/patterns/rest/index.js';
import type { Address, RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';

// The REST services as a client meets them: real node:http servers on 127.0.0.1:0.
describe('rest services over HTTP', () => {
  const generator = new OrderGenerator(seededRandom(7));
  const routed: [string, Address][] = [];
  let running: RunningPattern;
  let orders: Pool;
  let inventory: Pool;
  const at = (hop: string): Address => {
    const address = routed.find(([h]) => h === hop)?.[1];
    if (!address) throw new Error(`${hop} was not routed`);
    return address;
  };

  beforeAll(async () => {
    running = await createRestPattern({ maxBodyBytes: 4096 }).start({
      world: generator.world(),
      random: seededRandom(8),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread' },
      network: { route: async (hop, target) => (routed.push([hop, target]), target) },
    });
    orders = new Pool(`http://${at('rest:orders').host}:${at('rest:orders').port}`);
    inventory = new Pool(`http://${at('rest:inventory').host}:${at('rest:inventory').port}`);
  });
  afterAll(async () => {
    await orders.destroy();
    await inventory.destroy();
    await running.stop();
  });

  const post = async (pool: Pool, path: string, body: string) => {
    const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
    const text = await res.body.text();
    return { status: res.statusCode, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  it('listens on 127.0.0.1 only, every service', () => {
    expect(routed.map(([hop]) => hop)).toEqual(['rest:inventory', 'rest:payments', 'rest:notifications', 'rest:orders']);
    for (const [, address] of routed) expect(address.host).toBe('127.0.0.1');
  });

  it('answers 201 with the terminal outcome of a new order', async () => {
    const order = generator.next();
    const res = await post(orders, '/orders', JSON.stringify(order));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ orderId: order.orderId });
    expect(['CONFIRMED', 'CANCELLED']).toContain(res.body?.status);
  });

  it('answers 400 to malformed JSON and keeps serving on the same connection', async () => {
    const bad = await post(orders, '/orders', '{"orderId": ');
    expect(bad.status).toBe(400);
    expect(String(bad.body?.error)).toMatch(/^malformed JSON: /);
    const good = await post(orders, '/orders', JSON.stringify(generator.next()));
    expect(good.status).toBe(201);
  });

  it('answers 400 with a clear message to a body of the wrong shape', async () => {
    const order = generator.next();
    expect(await post(orders, '/orders', JSON.stringify({ ...order, items: [{ sku: 'sku-1', qty: 0 }] }))).toEqual({
      status: 400,
      body: { error: 'items[0].qty must be an integer ≥ 1' },
    });
    expect(await post(orders, '/orders', JSON.stringify({ ...order, customerId: 5 }))).toEqual({
      status: 400,
      body: { error: 'customerId must be a non-empty string of at most 200 characters' },
    });
    expect(await post(orders, '/orders', '[1, 2]')).toEqual({ status: 400, body: { error: 'the order must be a JSON object' } });
  });

  it('answers 413 to a body over the cap and keeps serving', async () => {
    const huge = JSON.stringify({ ...generator.next(), customerId: 'x'.repeat(10_000) });
    expect(await post(orders, '/orders', huge)).toEqual({ status: 413, body: { error: 'request body is larger than 4096 bytes' } });
    expect((await post(orders, '/orders', JSON.stringify(generator.next()))).status).toBe(201);
  });

  it('answers 404 to an unknown resource or order, 405 to a wrong method', async () => {
    expect((await post(orders, '/nope', '{}')).status).toBe(404);
    const missing = await orders.request({ method: 'GET', path: '/orders/never-placed' });
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toEqual({ error: 'no order "never-placed"' });
    const wrong = await orders.request({ method: 'PUT', path: '/orders', body: '{}' });
    expect(wrong.statusCode).toBe(405);
    await wrong.body.dump();
  });

  it('answers 409 when stock is short', async () => {
    const res = await post(inventory, '/reservations', JSON.stringify({ orderId: 'r-1', items: [{ sku: 'hot-0', qty: 1_000 }] }));
    expect(res).toEqual({ status: 409, body: { error: 'out_of_stock' } });
  });

  it('changes nothing when a POST /orders is retried: 200 with the first outcome', async () => {
    const order = generator.next();
    const first = await post(orders, '/orders', JSON.stringify(order));
    const before = await running.snapshot();
    const again = await post(orders, '/orders', JSON.stringify(order));
    const after = await running.snapshot();
    expect(first.status).toBe(201);
    expect(again).toEqual({ status: 200, body: first.body });
    expect(after.payments.ledger).toEqual(before.payments.ledger);
    expect(after.inventory.reservations).toEqual(before.inventory.reservations);
    expect(after.inventory.available).toEqual(before.inventory.available);
    expect(after.orders.duplicates).toBe(before.orders.duplicates + 1);
  });
});
