import { afterEach, describe, expect, it } from 'vitest';
import { EventDrivenSystem as QueueSystem } from '../src/amqp/system.js';
import { queuePattern } from '../src/patterns/queue/index.js';
import { FaultNetwork } from '../src/faults/network.js';
import type { RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { BROKERS, brokerName } from './support/brokers.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

let running: RunningPattern | undefined;
const networks: FaultNetwork[] = [];
afterEach(async () => {
  await running?.stop();
  running = undefined;
  for (const n of networks.splice(0)) await n.close();
});

describe.each(BROKERS)('queue pattern on %s', (broker) => {
  it(`keeps every invariant in baseline and reports accept, wire and backlog (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker });
    running = started.running;
    const system = running as QueueSystem;
    expect(system.transport.protocol).toBe('AMQP 0-9-1');
    expect(system.transport.broker).toMatch(broker === 'embedded' ? /^pattern-bench embedded broker \d/ : /^RabbitMQ \d/);
    const r = await loadAndCheck(running, started.generator, { durationMs: 800 });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    expect(r.failed).toBe(0);
    const wire = (await system.wireStats());
    // Each order: at least 3 publishes and 4 deliveries (out of stock is the shortest path).
    expect(wire.messages / r.placed).toBeGreaterThanOrEqual(7);
    expect(wire.bytes / r.placed).toBeGreaterThan(500);
    expect((await system.backlog()).drainMs).not.toBeNull();
    expect(await system.deadLettered()).toBe(0);
  });

  it(`loses nothing when a consumer's connection is killed mid-batch (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker });
    running = started.running;
    const system = running as QueueSystem;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      at: {
        ms: 500,
        action: async () => {
          await system.crash('inventory');
          await system.crash('payments');
        },
      },
    });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0, leakedReservations: 0 });
    expect(r.invariants.duplicatesAbsorbed).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
  });

  it(`with --queue-ack auto the same kill loses orders, and the checker says so (${brokerName(broker)})`, async () => {
    const started = await startPattern(queuePattern, { broker, queueAck: 'auto' });
    running = started.running;
    const system = running as QueueSystem;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      drainMs: 1500,
      shape: { kind: 'open', rate: 3000 },
      at: { ms: 500, action: () => system.crash('inventory') },
    });
    expect(r.invariants.ok).toBe(false);
    expect(r.invariants.stuck + r.invariants.lost).toBeGreaterThan(0);
  });

  it(`keeps every accepted order when every broker connection drops mid-run (${brokerName(broker)})`, async () => {
    // The network drops every connection to the broker (RST), as a broker restart or a
    // load balancer would; the services stay up, reconnect and republish what was unconfirmed.
    const network = new FaultNetwork(seededRandom(3));
    networks.push(network);
    const started = await startPattern(queuePattern, { broker }, network);
    running = started.running;
    const r = await loadAndCheck(running, started.generator, {
      durationMs: 1200,
      at: {
        ms: 500,
        action: () => {
          const name = network.addFault('amqp:*', { type: 'reset_peer' });
          setTimeout(() => network.removeFault('amqp:*', name), 100);
        },
      },
    });
    expect(network.stats().reduce((n, h) => n + h.resets, 0)).toBeGreaterThanOrEqual(5);
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0 });
    expect(r.failed).toBe(0);
  });
});
