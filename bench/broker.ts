/**
 * Embedded broker vs RabbitMQ: amqplib publishes 1 KiB messages with publisher confirms
 * (at most 256 outstanding) while a second connection consumes with manual acks
 * (prefetch 256). Reports msgs/s and end-to-end latency p50/p99 (HdrHistogram), medians
 * over alternating rounds, and the ratio embedded/RabbitMQ.
 *
 *   node dist/bench/broker.js [--messages 20000] [--rounds 3] [--placement worker|main]
 *
 * RabbitMQ is included when AMQP_URL is set. The embedded broker runs in a worker
 * thread by default (its own event loop and core, as RabbitMQ has its own process);
 * `--placement main` runs it on the benchmark's own event loop instead.
 */
import { performance } from 'node:perf_hooks';
import { connect, type ConfirmChannel } from 'amqplib';
import * as hdr from 'hdr-histogram-js';
import { startBroker, startBrokerInWorker } from '../src/broker/index.js';

const BODY_BYTES = 1024;
const WINDOW = 256;
const PREFETCH = 256;

interface Args {
  messages: number;
  rounds: number;
  placement: 'worker' | 'main';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { messages: 20_000, rounds: 3, placement: 'worker' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--messages') args.messages = Number(value);
    else if (flag === '--rounds') args.rounds = Number(value);
    else if (flag === '--placement' && (value === 'worker' || value === 'main')) args.placement = value;
    else throw new Error(`unknown or invalid argument: ${flag} ${value ?? ''}`);
  }
  if (!Number.isInteger(args.messages) || args.messages < 1) throw new Error(`invalid --messages ${args.messages}`);
  if (!Number.isInteger(args.rounds) || args.rounds < 1) throw new Error(`invalid --rounds ${args.rounds}`);
  return args;
}

interface RoundResult {
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** One round: publish `n` messages with a confirm window while consuming them all. */
async function round(url: string, n: number): Promise<RoundResult> {
  const pubConn = await connect(url);
  const subConn = await connect(url);
  const pub: ConfirmChannel = await pubConn.createConfirmChannel();
  const sub = await subConn.createChannel();
  const queue = `pb-bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await pub.assertQueue(queue, { durable: false });
  await sub.prefetch(PREFETCH);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const body = Buffer.alloc(BODY_BYTES, 0x61);

  let received = 0;
  const started = performance.now();
  const consumed = new Promise<number>((resolve) => {
    void sub.consume(queue, (m) => {
      if (m === null) return;
      const sentAt = m.content.readDoubleBE(0);
      histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
      sub.ack(m);
      if (++received === n) resolve(performance.now());
    });
  });

  let sent = 0;
  let outstanding = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (outstanding < WINDOW && sent < n) {
        const b = Buffer.from(body);
        b.writeDoubleBE(performance.now(), 0);
        outstanding++;
        sent++;
        pub.sendToQueue(queue, b, {}, (err: unknown) => {
          if (err !== null && err !== undefined) {
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          outstanding--;
          if (sent < n) pump();
          else if (outstanding === 0) resolve();
        });
      }
    };
    pump();
  });
  const finished = await consumed;
  const result = {
    msgsPerSec: n / ((finished - started) / 1000),
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
  histogram.destroy();
  await pub.deleteQueue(queue);
  await pubConn.close();
  await subConn.close();
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Target {
  name: string;
  url: string;
  results: RoundResult[];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const embedded = args.placement === 'worker' ? await startBrokerInWorker() : await startBroker();
  const targets: Target[] = [{ name: `embedded (${args.placement === 'worker' ? 'worker thread' : 'main thread'})`, url: embedded.url, results: [] }];
  const rabbitUrl = process.env['AMQP_URL'];
  if (rabbitUrl !== undefined && rabbitUrl !== '') targets.push({ name: 'rabbitmq', url: rabbitUrl, results: [] });

  console.error(`# ${args.messages} msgs × ${args.rounds} rounds, ${BODY_BYTES} B bodies, confirm window ${WINDOW}, prefetch ${PREFETCH}`);
  for (const t of targets) await round(t.url, Math.min(5000, args.messages)); // warm-up
  for (let r = 0; r < args.rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const res = await round(t.url, args.messages);
      t.results.push(res);
      console.error(`round ${r + 1} ${t.name}: ${res.msgsPerSec.toFixed(0)} msgs/s p50 ${res.p50Ms.toFixed(2)} ms p99 ${res.p99Ms.toFixed(2)} ms`);
    }
  }
  await embedded.stop();

  const rows = targets.map((t) => ({
    name: t.name,
    msgs: median(t.results.map((x) => x.msgsPerSec)),
    p50: median(t.results.map((x) => x.p50Ms)),
    p99: median(t.results.map((x) => x.p99Ms)),
  }));
  console.log(`${'broker'.padEnd(28)}${'msgs/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(28)}${row.msgs.toFixed(0).padStart(10)}${row.p50.toFixed(2).padStart(10)}${row.p99.toFixed(2).padStart(10)}`);
  }
  const [e, rmq] = rows;
  if (e !== undefined && rmq !== undefined) console.log(`ratio embedded/rabbitmq msgs/s: ${(e.msgs / rmq.msgs).toFixed(2)}×`);
  else console.log('ratio embedded/rabbitmq: n/a (AMQP_URL not set)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
