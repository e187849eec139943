/**
 * `pattern-bench serve` for the event-driven patterns: the embedded broker as a process of
 * its own (`pattern-bench broker`), the four services of queue (and of the choreographed
 * saga) as four more, each connected to it with --broker; a client that knows only the
 * broker places orders with `command.place-order` and hears the outcomes on its queue.
 * The built CLI (`npm run build` first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEvent, parseEvent, PLACE_ORDER, type EventWorkflow } from '../src/amqp/events.js';
import { bindingsOf } from '../src/amqp/service.js';
import { declareTopology, makeTopology, queueOf } from '../src/amqp/topology.js';
import { SERVE_RUN_ID } from '../src/cli/serve-command.js';
import { queueWorkflow } from '../src/patterns/queue/index.js';
import { choreographyWorkflow } from '../src/patterns/saga-choreography/index.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderOutcome } from '../src/workflow/types.js';
import { BIN } from './support/cli.js';

interface Started {
  readonly child: ChildProcess;
  readonly line: string;
  readonly closed: Promise<number | null>;
  err(): string;
}

const started: Started[] = [];
afterEach(() => {
  for (const s of started.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

/** Start `pattern-bench args…` and wait for a stderr line matching `ready`. */
function start(args: readonly string[], ready: RegExp): Promise<Started> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const line = ready.exec(err)?.[0];
      if (line) {
        const s = { child, line, closed, err: () => err };
        started.push(s);
        resolve(s);
      }
    });
    void closed.then((code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${err}`)));
  });
}

const WORKFLOWS: readonly [string, EventWorkflow][] = [
  ['queue', queueWorkflow],
  ['saga-choreography', choreographyWorkflow],
];

describe.each(WORKFLOWS)('pattern-bench serve --pattern %s', (pattern, workflow) => {
  it('the broker and four services as five processes: orders placed through the broker reach their outcomes', async () => {
    const broker = await start(['broker', '--port', '0'], /amqp:\/\/\S+/);
    const url = broker.line;
    const services = await Promise.all(
      ['orders', 'inventory', 'payments', 'notifications'].map((s) => start(['serve', '--pattern', pattern, '--service', s, '--broker', url], /^serving .*$/m)),
    );
    for (const s of services) expect(s.line).toMatch(new RegExp(`^serving ${pattern} \\w+ through amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:\\d+ \\(pid \\d+\\); Ctrl-C to stop$`));

    // The client's side, as src/amqp/system.ts has it, on the names every served service declared.
    const topology = makeTopology(workflow.name, SERVE_RUN_ID, bindingsOf(workflow));
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      await declareTopology(ch, topology);
      const outcomes = new Map<string, OrderOutcome>();
      const generator = new OrderGenerator(seededRandom(7).fork(), { outOfStockShare: 0.5, declineShare: 0.2 });
      const placed = Array.from({ length: 60 }, () => generator.next());
      const all = new Promise<void>((resolve) => {
        void ch.consume(queueOf(topology, 'client'), (msg) => {
          if (!msg) return;
          const event = parseEvent(msg);
          ch.ack(msg);
          if ('order' in event) return;
          outcomes.set(event.orderId, event.reason ? { orderId: event.orderId, status: event.status, reason: event.reason } : { orderId: event.orderId, status: event.status });
          if (outcomes.size === placed.length) resolve();
        });
      });
      for (const order of placed) ch.publish(topology.exchange, PLACE_ORDER, encodeEvent({ order }));
      await all;
      expect(new Set(placed.map((o) => outcomes.get(o.orderId)?.status))).toEqual(new Set(['CONFIRMED', 'CANCELLED']));
      const reasons = new Set([...outcomes.values()].flatMap((o) => (o.status === 'CANCELLED' && o.reason ? [o.reason] : [])));
      expect(reasons).toEqual(new Set(['payment_declined', 'out_of_stock']));
    } finally {
      await conn.close();
    }
    for (const s of services) s.child.kill('SIGTERM');
    expect(await Promise.all(services.map((s) => s.closed))).toEqual([0, 0, 0, 0]);
    for (const s of services) expect(s.err()).toMatch(new RegExp(`^${pattern} \\w+ stopped$`, 'm'));
    broker.child.kill('SIGTERM');
    expect(await broker.closed).toBe(0);
  }, 60_000);
});
