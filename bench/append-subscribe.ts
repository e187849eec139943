/**
 * Appends/s and append→delivery latency of the event stores, with live subscribers.
 *
 *   node dist/bench/append-subscribe.js [--subscribers 1,4] [--writers 16] [--seconds 3]
 *                                       [--per-append 1] [--stores memory,postgres]
 *                                       [--separate]
 *
 * For each store and each subscriber count N: `--writers` concurrent writers append to
 * streams of 5 events (expected version checked, `--per-append` events per call) for
 * `--seconds`, while N catch-up-then-live subscriptions from the head handle every event.
 * Prints appends/s, events/s, and the latency from just before `append` was called to the
 * handler of each subscriber (p50/p99/max over every delivery, ms), after every
 * subscriber has seen every event. With `--separate` (PostgreSQL) each subscriber opens a
 * store of its own under a URL of its own, so that none shares a feed with another or with
 * the writers (as components on threads of their own do); without it they share one store.
 * PostgreSQL runs when DATABASE_URL is set, in a temporary schema dropped afterwards.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MemoryEventStore, openPostgresEventStore, type EventStore, type NewEvent } from '../src/event-store/index.js';
import { LatencyHistogram } from '../src/metrics/histogram.js';

const EVENTS_PER_STREAM = 5;

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1,4' },
    writers: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '3' },
    'per-append': { type: 'string', default: '1' },
    stores: { type: 'string', default: 'memory,postgres' },
    separate: { type: 'boolean', default: false },
  },
});
const counts = values.subscribers.split(',').map(Number);
const writers = Number(values.writers);
const seconds = Number(values.seconds);
const perAppend = Number(values['per-append']);
if (counts.some((n) => !Number.isSafeInteger(n) || n < 1) || !Number.isSafeInteger(writers) || writers < 1 || !(seconds > 0) || !(perAppend >= 1)) {
  console.error('--subscribers, --writers and --per-append take positive integers, --seconds a positive number');
  process.exit(2);
}
if (EVENTS_PER_STREAM % perAppend !== 0) {
  console.error(`--per-append must divide ${EVENTS_PER_STREAM}`);
  process.exit(2);
}

const url = process.env.DATABASE_URL;
const kinds: ('memory' | 'postgres')[] = [];
for (const name of values.stores.split(',')) {
  if (name === 'memory') kinds.push('memory');
  else if (name === 'postgres') {
    if (url === undefined) console.error('postgres: skipped (DATABASE_URL is not set)');
    else kinds.push('postgres');
  } else {
    console.error(`unknown store ${JSON.stringify(name)} (known: memory, postgres)`);
    process.exit(2);
  }
}

/** A URL the feed of `openPostgresEventStore` tells apart from `base` (one feed per URL and schema in a thread). */
function distinctUrl(base: string, i: number): string {
  const u = new URL(base);
  u.searchParams.set('application_name', `pb-append-subscribe-${i}`);
  return u.href;
}

interface Figures {
  appends: number;
  events: number;
  seconds: number;
  latency: ReturnType<LatencyHistogram['summary']>;
}

async function measure(kind: 'memory' | 'postgres', subscribers: number): Promise<Figures> {
  const schema = `pb_bench_as_${process.pid}_${subscribers}_${Date.now() % 1e6}`;
  const writer: EventStore = kind === 'memory' ? new MemoryEventStore() : await openPostgresEventStore(url ?? '', { schema, poolSize: 4 });
  const readers: EventStore[] = [];
  for (let i = 0; i < subscribers; i++) {
    if (kind === 'memory' || !values.separate) readers.push(writer);
    else readers.push(await openPostgresEventStore(distinctUrl(url ?? '', i), { schema, poolSize: 2 }));
  }
  // Built before timing: one payload per event slot; the send time goes in per append.
  const template: NewEvent[] = Array.from({ length: perAppend }, (_, i) => ({
    type: i === 0 ? 'OrderPlaced' : 'OrderProgressed',
    data: { orderId: 'order-000000', customerId: 'customer-42', amountCents: 12_345, items: [{ sku: 'sku-7', qty: 2 }], sentAt: 0 },
  }));
  const latency = new LatencyHistogram();
  const seen = new Array<number>(subscribers).fill(0);
  let appendedEvents = 0;
  const start = await writer.head();
  const subs = readers.map((store, i) =>
    store.subscribe(start, (event) => {
      latency.recordMs(performance.now() - (event.data['sentAt'] as number));
      seen[i] = (seen[i] as number) + 1;
    }),
  );
  await Promise.all(subs.map((s) => s.caughtUp));

  let stream = 0;
  let appends = 0;
  const began = performance.now();
  const until = began + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < until) {
        const name = `s-${stream++}`;
        for (let version = 0; version < EVENTS_PER_STREAM; version += perAppend) {
          const sentAt = performance.now();
          const events = template.map((e) => ({ type: e.type, data: { ...e.data, sentAt } }));
          await writer.append(name, events, version);
          appends++;
          appendedEvents += perAppend;
        }
      }
    }),
  );
  const elapsed = (performance.now() - began) / 1000;
  // Every subscriber sees every event before the figures count.
  const deadline = performance.now() + 30_000;
  while (seen.some((n) => n < appendedEvents)) {
    if (performance.now() > deadline) throw new Error(`subscribers saw ${seen.join(', ')} of ${appendedEvents} events`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(subs.map((s) => s.stop()));
  for (const store of new Set(readers)) if (store !== writer) await store.close();
  if (kind === 'postgres') await (writer as Awaited<ReturnType<typeof openPostgresEventStore>>).destroy();
  else await writer.close();
  return { appends, events: appendedEvents, seconds: elapsed, latency: latency.summary() };
}

const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
for (const kind of kinds) {
  for (const n of counts) {
    const f = await measure(kind, n);
    const mode = kind === 'postgres' ? (values.separate ? ', separate feeds' : ', one store') : '';
    console.log(
      `${kind.padEnd(8)} subscribers=${String(n).padStart(2)}  append ${rate(f.appends, f.seconds).padStart(7)} appends/s ` +
        `(${rate(f.events, f.seconds)} events/s, ${writers} writers, ${perAppend}/call${mode})  ` +
        `append→delivery p50 ${ms(f.latency.p50)} p99 ${ms(f.latency.p99)} max ${ms(f.latency.max)} ms (${f.latency.count} deliveries)`,
    );
  }
}
