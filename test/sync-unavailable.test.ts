import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { grpcPattern } from '../src/patterns/grpc/index.js';
import { restPattern } from '../src/patterns/rest/index.js';
import { isHopErrorCounter, type Address, type Network } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<Address> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

const CASES = [
  { name: 'rest', pattern: restPattern, code: 'ECONNREFUSED' },
  { name: 'grpc', pattern: grpcPattern, code: 'UNAVAILABLE' },
] as const;

describe.each(CASES)('$name pattern with payments unreachable', ({ name, pattern, code }) => {
  it(`cancels every order with downstream_error, counts the hop errors, and keeps the invariants`, async () => {
    const dead = await deadPort();
    const network: Network = { route: async (hop, target) => (hop === `${name}:payments` ? dead : target) };
    const generator = new OrderGenerator(seededRandom(8), { outOfStockShare: 0, declineShare: 0 });
    const running = await pattern.start({
      world: generator.world(),
      random: seededRandom(9),
      options: { broker: 'embedded', eventStore: 'memory', placement: 'same-thread' },
      network,
    });
    try {
      const placed = [generator.next(), generator.next()];
      const outcomes = await Promise.all(placed.map((o) => running.placeOrder(o)));
      expect(outcomes.map((o) => o.reason)).toEqual(['downstream_error', 'downstream_error']);
      if (!isHopErrorCounter(running)) throw new Error(`${name} must count hop errors`);
      expect(await running.hopErrors()).toMatchObject({ [`charge:${code}`]: 2, [`refund:${code}`]: 2 });
      const report = checkInvariants({ placed, accepted: new Set(placed.map((o) => o.orderId)), snapshot: await running.snapshot() });
      expect(report).toMatchObject({ ok: true, leakedReservations: 0, leakedCharges: 0 });
    } finally {
      await running.stop();
    }
  });
});
