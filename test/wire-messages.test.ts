/**
 * Messages are counted as they cross the socket (issue #12): HTTP/1.1 requests node parsed
 * off a server socket and responses written to it; gRPC messages a call read off its HTTP/2
 * stream and wrote to it. Real servers on port 0, real sockets; an exchange whose answer never
 * crossed counts only what did.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../src/faults/proxy.js';
import type { Address } from '../src/net/address.js';
import { createClient, grpcError, serverStream, unary } from '../src/patterns/grpc/calls.js';
import type { Empty, OrderUpdate, PlaceOrderRequest } from '../src/patterns/grpc/messages.js';
import { loadOrderProto } from '../src/patterns/grpc/proto.js';
import { channelOptions, GRPC_DEFAULTS, handle, serve as serveGrpc, streamOrderUpdates } from '../src/patterns/grpc/services.js';
import { sendJson } from '../src/patterns/rest/http.js';
import { serve as serveRest, type Routes } from '../src/patterns/rest/services.js';
import { seededRandom } from '../src/random.js';
import { WireMeter } from '../src/wire/meter.js';
import { OrdersService } from '../src/workflow/orders.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A promise and its resolve, for a handler to say where it got to. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const proto = loadOrderProto();
const CHARGE = { orderId: 'ord-1', customerId: 'cust-1', amountCents: 100 };

describe('HTTP/1.1 messages on the wire (REST serve)', () => {
  /** A REST server metered by `meter`, and every socket it accepted (to wait until they closed: each message on them has been counted by then). */
  async function restServer(meter: WireMeter, routes: Routes) {
    const served = await serveRest('test', routes, meter);
    closers.push(() => served.close());
    const sockets: Socket[] = [];
    served.server.on('connection', (socket: Socket) => sockets.push(socket));
    const allClosed = () => Promise.all(sockets.map((s) => (s.closed ? undefined : once(s, 'close'))));
    return { address: served.address, sockets, allClosed };
  }

  const things: Routes = {
    '/things': {
      GET: (req, res) => {
        req.resume();
        sendJson(res, 200, { ok: true });
      },
    },
  };

  /** GET each path in turn on one keep-alive connection, then close it; the statuses. */
  async function getAll(address: Address, paths: readonly string[]): Promise<number[]> {
    const pool = new Pool(`http://${address.host}:${address.port}`, { connections: 1 });
    const statuses: number[] = [];
    try {
      for (const path of paths) {
        const res = await pool.request({ method: 'GET', path });
        await res.body.dump();
        statuses.push(res.statusCode);
      }
    } finally {
      await pool.close();
    }
    return statuses;
  }

  it('counts exactly 2 messages per completed exchange: 5 requests on one keep-alive connection, answered 200 or 404, count 10', async () => {
    const meter = new WireMeter();
    const { address, sockets, allClosed } = await restServer(meter, things);
    expect(await getAll(address, ['/things', '/things/a', '/nothing', '/things', '/things'])).toEqual([200, 200, 404, 200, 200]);
    await allClosed();
    expect(sockets).toHaveLength(1);
    expect(meter.stats().messages).toBe(10);
  });

  it('counts exactly 1 message, the request, when its connection is destroyed before the response is written', async () => {
    const meter = new WireMeter();
    const entered = signal();
    const answered = signal<boolean>();
    const { address, allClosed } = await restServer(meter, {
      ...things,
      '/slow': {
        POST: async (req, res) => {
          req.resume();
          entered.resolve();
          await once(res, 'close'); // the client is gone
          sendJson(res, 200, { late: true });
          answered.resolve(res.writableEnded);
        },
      },
    });
    const client = connect(address.port, address.host);
    client.on('error', () => undefined);
    client.write('POST /slow HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    await entered.promise;
    client.destroy();
    expect(await answered.promise).toBe(true); // the handler did answer, after its connection had gone
    // A completed exchange after it, on a new connection: 2 more, and nothing late from the first.
    expect(await getAll(address, ['/things'])).toEqual([200]);
    await allClosed();
    expect(meter.stats().messages).toBe(1 + 2);
  });
});

describe('gRPC messages on the wire (gRPC serve)', () => {
  async function grpcServer(meter: WireMeter, implementation: UntypedServiceImplementation, service: ServiceDefinition = proto.PaymentService) {
    const served = await serveGrpc(GRPC_DEFAULTS, meter, (server) => server.addService(service, implementation));
    closers.push(() => served.close());
    return served.address;
  }

  function channel(address: Address) {
    const client = createClient(address, channelOptions(GRPC_DEFAULTS));
    closers.push(() => client.close());
    return client;
  }

  const charge = (address: Address) => unary(channel(address), proto.PaymentService.Charge, CHARGE, 5000);

  /** Refund that answers only once its call is cancelled (the client or its connection is gone); `answered` then. */
  function lateRefund(entered: () => void, answered: () => void) {
    return (call: ServerUnaryCall<{ orderId: string }, Empty>, callback: sendUnaryData<Empty>) => {
      entered();
      call.once('cancelled', () => {
        callback(null, {});
        answered();
      });
    };
  }

  it('counts exactly 2 messages per completed unary call: 3 Charge calls on one channel count 6', async () => {
    const meter = new WireMeter();
    const address = await grpcServer(meter, { Charge: handle((): Empty => ({})) });
    const client = channel(address);
    for (let i = 0; i < 3; i++) expect(await unary(client, proto.PaymentService.Charge, { ...CHARGE, orderId: `ord-${i}` }, 5000)).toEqual({});
    expect(meter.stats().messages).toBe(6);
  });

  it('counts exactly 1 message, the request, for a call answered with an error status and no response message: 2 refused Charges count 2', async () => {
    const meter = new WireMeter();
    const address = await grpcServer(meter, {
      Charge: handle((): Empty => {
        throw grpcError(status.FAILED_PRECONDITION, 'payment_declined');
      }),
    });
    const client = channel(address);
    for (let i = 0; i < 2; i++) {
      await expect(unary(client, proto.PaymentService.Charge, CHARGE, 5000)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: 'payment_declined' });
    }
    expect(meter.stats().messages).toBe(2);
  });

  it('counts exactly 1 message, the request, for a call whose connection is destroyed before its answer', async () => {
    const meter = new WireMeter();
    const entered = signal();
    const answered = signal();
    const address = await grpcServer(meter, { Refund: lateRefund(entered.resolve, answered.resolve), Charge: handle((): Empty => ({})) });
    const proxy = new FaultProxy('test:payments', address, seededRandom(1));
    await proxy.listen();
    const refund = unary(channel(proxy.address), proto.PaymentService.Refund, { orderId: 'ord-1' }, 5000);
    const failed = refund.then(
      () => undefined,
      (err: ServiceError) => err.code,
    );
    await entered.promise;
    await proxy.close(); // every connection through it destroyed, the server's included
    await answered.promise; // the handler answered the cancelled call
    expect(await failed).toBe(status.UNAVAILABLE);
    // A completed call on a direct channel after it: 2 more, and nothing late from the first.
    expect(await charge(address)).toEqual({});
    expect(meter.stats().messages).toBe(1 + 2);
  });

  it('counts exactly 1 message, the request, for a call the client cancels before its answer', async () => {
    const meter = new WireMeter();
    const entered = signal();
    const answered = signal();
    const address = await grpcServer(meter, { Refund: lateRefund(entered.resolve, answered.resolve), Charge: handle((): Empty => ({})) });
    const method = proto.PaymentService.Refund;
    const done = signal<ServiceError | null>();
    const call = channel(address).makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { orderId: 'ord-1' }, (err) => done.resolve(err));
    await entered.promise;
    call.cancel(); // RST_STREAM: the server's call is cancelled, as at a deadline
    await answered.promise;
    expect((await done.promise)?.code).toBe(status.CANCELLED);
    expect(await charge(address)).toEqual({});
    expect(meter.stats().messages).toBe(1 + 2);
  });

  it('counts SubmitOrder\'s request and each update it streams once: the request, PENDING and CONFIRMED count 3', async () => {
    const meter = new WireMeter();
    const address = await grpcServer(
      meter,
      {
        SubmitOrder: (call: ServerWritableStream<PlaceOrderRequest, OrderUpdate>) => {
          call.write({ orderId: call.request.orderId, status: 'PENDING', reason: 'CANCEL_REASON_UNSPECIFIED' });
          call.write({ orderId: call.request.orderId, status: 'CONFIRMED', reason: 'CANCEL_REASON_UNSPECIFIED' });
          call.end();
        },
      },
      proto.OrderService,
    );
    const order: PlaceOrderRequest = { orderId: 'ord-1', customerId: 'cust-1', items: [{ sku: 'sku-1', qty: 1 }], amountCents: 100 };
    const updates = serverStream(channel(address), proto.OrderService.SubmitOrder, order, 5000);
    const seen: string[] = [];
    updates.on('data', (update: OrderUpdate) => seen.push(update.status));
    await once(updates, 'end');
    expect(seen).toEqual(['PENDING', 'CONFIRMED']);
    expect(meter.stats().messages).toBe(1 + 2);
  });

  it('counts a server stream\'s request and every update written: PENDING, CHARGED, RESERVED, CONFIRMED and the request count 5', async () => {
    const meter = new WireMeter();
    const orders = new OrdersService();
    orders.create({ orderId: 'ord-1', customerId: 'cust-1', items: [{ sku: 'sku-1', qty: 1 }], amountCents: 100 });
    const address = await grpcServer(meter, { StreamOrderUpdates: streamOrderUpdates(orders) }, proto.OrderService);
    const updates = serverStream(channel(address), proto.OrderService.StreamOrderUpdates, { orderId: 'ord-1' }, 5000);
    const seen: string[] = [];
    updates.on('data', (update: OrderUpdate) => {
      seen.push(update.status);
      if (update.status !== 'PENDING') return;
      orders.advance('ord-1', 'CHARGED');
      orders.advance('ord-1', 'RESERVED');
      orders.finish('ord-1', 'CONFIRMED');
    });
    await once(updates, 'end');
    expect(seen).toEqual(['PENDING', 'CHARGED', 'RESERVED', 'CONFIRMED']);
    expect(meter.stats().messages).toBe(5);
  });
});
