import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGrpcPattern } from '../src/patterns/grpc/index.js';
import { createRestPattern } from '../src/patterns/rest/index.js';
import { isHopErrorCounter, type Address, type Network } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';

/** A TCP proxy that holds every byte the service sends back for `delayMs`: a slow downstream. */
async function slowReplies(target: Address, delayMs: number): Promise<{ address: Address; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        client.write(chunk);
      }, delayMs);
      timers.add(timer);
    });
    client.once('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// undici's headers and body timeouts tick at ~0.5 s (its "fast timers"), so REST's slow hop
// is far slower than the deadline, not just slower.
const CASES = [
  { name: 'rest', make: createRestPattern, slowMs: 1200, error: 'charge:UND_ERR_HEADERS_TIMEOUT' },
  { name: 'grpc', make: createGrpcPattern, slowMs: 300, error: 'charge:DEADLINE_EXCEEDED' },
] as const;

describe.each(CASES)('$name pattern with a downstream slower than its deadline', ({ name, make, slowMs, error }) => {
  it('cancels the order, compensates, counts the hop error and leaks no reservation', async () => {
    const proxies: { close(): Promise<void> }[] = [];
    const network: Network = {
      route: async (hop, target) => {
        if (hop !== `${name}:payments`) return target;
        const proxy = await slowReplies(target, slowMs);
        proxies.push(proxy);
        return proxy.address;
      },
    };
    const generator = new OrderGenerator(seededRandom(5), { outOfStockShare: 0, declineShare: 0 });
    const running = await make({ hopTimeoutMs: 100 }).start({
      world: generator.world(),
      random: seededRandom(6),
      // The transport's own deadline, without the run's retries on top (tested in resilience.test.ts).
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread', resilience: 'none' },
      network,
    });
    try {
      const placed = [generator.next(), generator.next(), generator.next()];
      const outcomes = await Promise.all(placed.map((o) => running.placeOrder(o)));
      for (const [i, outcome] of outcomes.entries()) {
        expect(outcome).toEqual({ orderId: placed[i]?.orderId, status: 'CANCELLED', reason: 'downstream_error' });
      }
      if (!isHopErrorCounter(running)) throw new Error(`${name} must count hop errors`);
      expect((await running.hopErrors())[error]).toBe(3);

      await new Promise((resolve) => setTimeout(resolve, slowMs + 100)); // the late replies land
      const snapshot = await running.snapshot();
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot });
      expect(report).toMatchObject({ ok: true, leakedReservations: 0, leakedCharges: 0, stuck: 0 });
    } finally {
      await running.stop();
      for (const p of proxies) await p.close();
    }
  });
});
