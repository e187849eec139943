import { status, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, serverStream, unary } from '../src/patterns/grpc/calls.js';
import { createGrpcPattern } from '../src/patterns/grpc/index.js';
import type { OrderUpdate, PlaceOrderRequest } from '../src/patterns/grpc/messages.js';
import { loadOrderProto } from '../src/patterns/grpc/proto.js';
import type { Address, RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderRequest } from '../src/workflow/types.js';

// The gRPC services as a client meets them: real grpc-js servers on 127.0.0.1:0.
describe('grpc services', () => {
  const proto = loadOrderProto();
  const generator = new OrderGenerator(seededRandom(3));
  const routed: [string, Address][] = [];
  let running: RunningPattern;
  let client: Client;

  beforeAll(async () => {
    running = await createGrpcPattern({ maxMessageBytes: 4096 }).start({
      world: generator.world(),
      random: seededRandom(4),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread' },
      network: { route: async (hop, target) => (routed.push([hop, target]), target) },
    });
    const orders = routed.find(([hop]) => hop === 'grpc:orders')?.[1];
    if (!orders) throw new Error('grpc:orders was not routed');
    client = createClient(orders, {}); // no send limit: the server's receive limit is what is tested
  });
  afterAll(async () => {
    client.close();
    await running.stop();
  });

  const request = (order: OrderRequest): PlaceOrderRequest => ({ ...order, items: [...order.items] });
  const place = (req: PlaceOrderRequest) => unary(client, proto.OrderService.PlaceOrder, req, 5000);
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: ServiceError) => ({ code: status[err.code], details: err.details }),
    );

  it('listens on 127.0.0.1 only, every service', () => {
    expect(routed.map(([hop]) => hop)).toEqual(['grpc:inventory', 'grpc:payments', 'grpc:notifications', 'grpc:orders']);
    for (const [, address] of routed) expect(address.host).toBe('127.0.0.1');
  });

  it('PlaceOrder answers with the terminal state; a retried PlaceOrder changes nothing', async () => {
    const order = generator.next();
    const first = await place(request(order));
    expect(first.orderId).toBe(order.orderId);
    expect(['CONFIRMED', 'CANCELLED']).toContain(first.status);
    const before = await running.snapshot();
    expect(await place(request(order))).toEqual(first);
    const after = await running.snapshot();
    expect(after.payments.ledger).toEqual(before.payments.ledger);
    expect(after.inventory.reservations).toEqual(before.inventory.reservations);
    expect(after.orders.duplicates).toBe(before.orders.duplicates + 1);
  });

  it('StreamOrderUpdates streams PENDING → CHARGED → RESERVED → CONFIRMED and ends', async () => {
    const order = { orderId: 'stream-1', customerId: 'cust-1', items: [{ sku: 'sku-1', qty: 1 }], amountCents: 100 };
    const updates: OrderUpdate[] = [];
    const stream = serverStream(client, proto.OrderService.StreamOrderUpdates, { orderId: order.orderId }, 5000);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (u: OrderUpdate) => updates.push(u));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the stream is open before the order exists
    await place(order);
    await ended;
    expect(updates.map((u) => u.status)).toEqual(['PENDING', 'CHARGED', 'RESERVED', 'CONFIRMED']);
  });

  it('StreamOrderUpdates of a finished order sends its terminal state and ends', async () => {
    const order = { orderId: 'stream-2', customerId: 'broke-0', items: [{ sku: 'sku-1', qty: 1 }], amountCents: 100_000 };
    await place(order);
    const updates: OrderUpdate[] = [];
    const stream = serverStream(client, proto.OrderService.StreamOrderUpdates, { orderId: order.orderId }, 5000);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (u: OrderUpdate) => updates.push(u));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    expect(updates).toEqual([{ orderId: 'stream-2', status: 'CANCELLED', reason: 'PAYMENT_DECLINED' }]);
  });

  it('answers INVALID_ARGUMENT to a malformed order', async () => {
    const order = request(generator.next());
    expect(await failure(place({ ...order, items: [] }))).toEqual({ code: 'INVALID_ARGUMENT', details: 'items must hold 1 to 100 items' });
    expect(await failure(place({ ...order, customerId: '' }))).toEqual({
      code: 'INVALID_ARGUMENT',
      details: 'customer_id must be a non-empty string of at most 200 characters',
    });
  });

  it('answers RESOURCE_EXHAUSTED to a message over the receive limit, and keeps serving', async () => {
    const order = request(generator.next());
    const result = await failure(place({ ...order, customerId: 'x'.repeat(10_000) }));
    expect(result.code).toBe('RESOURCE_EXHAUSTED');
    expect((await place(request(generator.next()))).status).toMatch(/CONFIRMED|CANCELLED/);
  });

  it('answers FAILED_PRECONDITION when stock is short', async () => {
    const inventoryAt = routed.find(([hop]) => hop === 'grpc:inventory')?.[1] as Address;
    const inventory = createClient(inventoryAt, {});
    try {
      const res = await failure(unary(inventory, proto.InventoryService.Reserve, { orderId: 'r-1', items: [{ sku: 'hot-0', qty: 1000 }] }, 5000));
      expect(res).toEqual({ code: 'FAILED_PRECONDITION', details: 'out_of_stock' });
    } finally {
      inventory.close();
    }
  });
});
