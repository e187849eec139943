/**
 * Embedded broker vs RabbitMQ: amqplib publishes 1 KiB persistent messages (delivery mode
 * 2) to a durable queue with publisher confirms (at most 256 outstanding) while a second
 * connection consumes with manual acks (prefetch 256). Reports msgs/s and end-to-end
 * latency p50/p99 (HdrHistogram), medians over rounds that alternate the targets' order,
 * and each embedded target's msgs/s against RabbitMQ's.
 *
 *   node dist/bench/broker.js [--messages 20000] [--rounds 3] [--targets process,worker,rabbitmq] [--transient]
 *
 * Targets: `process` — the embedded broker in a process of its own (`pattern-bench broker
 * --port 0`, as RabbitMQ has its own); `worker` — in a worker thread of the benchmark's
 * process (how `run` places it: its own event loop, the process shared); `main` — on the
 * benchmark's own event loop; `rabbitmq` — AMQP_URL, default amqp://guest:guest@127.0.0.1:5672
 * (left out, with a line saying so, when it does not answer).
 *
 * Not the same work: the embedded broker keeps every message in memory whatever its
 * delivery mode (nothing is written to disk), while RabbitMQ writes persistent messages on
 * a durable queue to its message store and confirms them once written. `--transient`
 * (non-durable queue, delivery mode 1) measures both without the disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, type ConfirmChannel } from 'amqplib';
import * as hdr from 'hdr-histogram-js';
import { startBroker, startBrokerInWorker } from '../src/broker/index.js';

const BODY_BYTES = 1024;
const WINDOW = 256;
const PREFETCH = 256;

const TARGET_KINDS = ['process', 'worker', 'main', 'rabbitmq'] as const;
type TargetKind = (typeof TARGET_KINDS)[number];
const isTargetKind = (s: string): s is TargetKind => (TARGET_KINDS as readonly string[]).includes(s);

interface Args {
  messages: number;
  rounds: number;
  targets: TargetKind[];
  persistent: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { messages: 20_000, rounds: 3, targets: ['process', 'worker', 'rabbitmq'], persistent: true };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--transient') {
      args.persistent = false;
      i--;
    } else if (flag === '--messages') args.messages = Number(value);
    else if (flag === '--rounds') args.rounds = Number(value);
    else if (flag === '--targets' && value !== undefined && value.split(',').every(isTargetKind)) args.targets = value.split(',') as TargetKind[];
    else throw new Error(`unknown or invalid argument: ${flag} ${value ?? ''} (--targets takes ${TARGET_KINDS.join(',')})`);
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
async function round(url: string, n: number, persistent: boolean): Promise<RoundResult> {
  const pubConn = await connect(url);
  const subConn = await connect(url);
  const pub: ConfirmChannel = await pubConn.createConfirmChannel();
  const sub = await subConn.createChannel();
  const queue = `pb-bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await pub.assertQueue(queue, { durable: persistent });
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
        pub.sendToQueue(queue, b, { persistent }, (err: unknown) => {
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
  stop(): Promise<void>;
  results: RoundResult[];
}

/** `pattern-bench broker --port 0` in a child process; resolves once it says where it listens. */
async function brokerProcess(): Promise<{ url: string; child: ChildProcess }> {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'broker', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = / listening on (amqp:\/\/\S+)/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`pattern-bench broker exited with code ${code} before it listened`)));
  });
  return { url, child };
}

async function startTarget(kind: TargetKind): Promise<Target | null> {
  const results: RoundResult[] = [];
  switch (kind) {
    case 'process': {
      const { url, child } = await brokerProcess();
      const stop = async () => {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      };
      return { name: 'embedded (own process)', url, stop, results };
    }
    case 'worker': {
      const b = await startBrokerInWorker();
      return { name: 'embedded (worker thread)', url: b.url, stop: () => b.stop(), results };
    }
    case 'main': {
      const b = await startBroker();
      return { name: 'embedded (main thread)', url: b.url, stop: () => b.stop(), results };
    }
    case 'rabbitmq': {
      const url = process.env['AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
      try {
        const c = await connect(url);
        const props = (c.connection as unknown as { serverProperties?: { version?: string } }).serverProperties;
        await c.close();
        return { name: `rabbitmq ${props?.version ?? ''}`.trim(), url, stop: async () => undefined, results };
      } catch (err) {
        console.error(`# rabbitmq left out: ${url.replace(/\/\/[^@]*@/, '//')} did not answer (${err instanceof Error ? err.message : String(err)})`);
        return null;
      }
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const targets: Target[] = [];
  for (const kind of args.targets) {
    const t = await startTarget(kind);
    if (t) targets.push(t);
  }
  const mode = args.persistent ? 'persistent messages on a durable queue' : 'transient messages on a non-durable queue';
  console.error(`# ${args.messages} msgs × ${args.rounds} rounds, ${BODY_BYTES} B bodies, ${mode}, confirm window ${WINDOW}, manual acks, prefetch ${PREFETCH}`);
  try {
    for (const t of targets) await round(t.url, Math.min(5000, args.messages), args.persistent); // warm-up
    for (let r = 0; r < args.rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const res = await round(t.url, args.messages, args.persistent);
        t.results.push(res);
        console.error(`round ${r + 1} ${t.name}: ${res.msgsPerSec.toFixed(0)} msgs/s p50 ${res.p50Ms.toFixed(2)} ms p99 ${res.p99Ms.toFixed(2)} ms`);
      }
    }
  } finally {
    for (const t of targets) await t.stop();
  }

  const rows = targets.map((t) => ({
    name: t.name,
    msgs: median(t.results.map((x) => x.msgsPerSec)),
    p50: median(t.results.map((x) => x.p50Ms)),
    p99: median(t.results.map((x) => x.p99Ms)),
  }));
  console.log(`# ${mode}, publisher confirms, manual acks; medians of ${args.rounds} rounds of ${args.messages} msgs`);
  console.log(`${'broker'.padEnd(28)}${'msgs/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(28)}${row.msgs.toFixed(0).padStart(10)}${row.p50.toFixed(2).padStart(10)}${row.p99.toFixed(2).padStart(10)}`);
  }
  const rmq = rows.find((r) => r.name.startsWith('rabbitmq'));
  for (const row of rows.filter((r) => r !== rmq)) {
    console.log(rmq ? `ratio ${row.name}/rabbitmq msgs/s: ${(row.msgs / rmq.msgs).toFixed(2)}×` : `ratio ${row.name}/rabbitmq: n/a (no rabbitmq)`);
  }
  if (args.persistent && rmq) console.log('(the embedded broker keeps persistent messages in memory; RabbitMQ writes them to disk before it confirms)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
