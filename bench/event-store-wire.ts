/**
 * npm run bench:event-store-wire — what the event store server's TCP hop costs.
 *
 * The same MemoryEventStore is used in-process and through `startEventStoreServer` +
 * `connectEventStore` on loopback (both ends on this one event loop, so the figures are
 * the CPU cost of both ends of the protocol together). Per round and target, on a fresh store:
 * - append: `--ops` appends of one event (expected version checked), one stream per 5
 *   events like a small order, by 1 and by 10 concurrent callers;
 * - read: `--ops` readStream calls of those 5-event streams, by 1 and by 10 callers;
 * - subscribe: one catch-up subscription from 0 over everything appended (events/s).
 * Rounds alternate the targets; medians are printed, with the ratio tcp / in-process.
 *
 *   node dist/bench/event-store-wire.js [--ops 20000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { connectEventStore, MemoryEventStore, startEventStoreServer, type EventStore, type NewEvent } from '../src/event-store/index.js';

const EVENTS_PER_STREAM = 5;
const CALLERS = [1, 10] as const;

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
  },
});
const ops = Number(values.ops);
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(ops) || ops < EVENTS_PER_STREAM || !Number.isSafeInteger(rounds) || rounds < 1) {
  console.error(`--ops takes an integer >= ${EVENTS_PER_STREAM}, --rounds a positive integer`);
  process.exit(2);
}

/** Built before timing starts: every append sends the same small order event. */
const payload: readonly NewEvent[] = [
  { type: 'OrderPlaced', data: { orderId: 'order-000000', customerId: 'customer-42', amountCents: 12_345, items: [{ sku: 'sku-7', qty: 2 }] } },
];
const streams = Math.floor(ops / EVENTS_PER_STREAM);
const streamNames = Array.from({ length: streams }, (_, s) => `order-${s}`);

interface Target {
  readonly name: string;
  open(): Promise<{ store: EventStore; close(): Promise<void> }>;
}

const targets: readonly Target[] = [
  {
    name: 'in-process',
    open: async () => {
      const store = new MemoryEventStore();
      return { store, close: () => store.close() };
    },
  },
  {
    name: 'tcp',
    open: async () => {
      const server = await startEventStoreServer();
      const store = await connectEventStore(server.url);
      return {
        store,
        close: async () => {
          await store.close();
          await server.close();
        },
      };
    },
  },
];

/** Seconds taken by `fn`. */
async function timed(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** `callers` concurrent loops that share `count` calls of `call(i)`. */
async function concurrently(callers: number, count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < count; i = next++) await call(i);
    }),
  );
}

/** Appends whole streams (so a stream's appends stay in order), `callers` streams at a time. */
function appendAll(store: EventStore, callers: number): Promise<void> {
  return concurrently(callers, streams, async (s) => {
    const stream = streamNames[s]!;
    for (let version = 0; version < EVENTS_PER_STREAM; version++) await store.append(stream, payload, version);
  });
}

function readAll(store: EventStore, callers: number): Promise<void> {
  return concurrently(callers, streams * EVENTS_PER_STREAM, async (i) => {
    const events = await store.readStream(streamNames[i % streams]!);
    if (events.length !== EVENTS_PER_STREAM) throw new Error(`read ${events.length} events, expected ${EVENTS_PER_STREAM}`);
  });
}

async function deliverAll(store: EventStore, total: number): Promise<void> {
  let seen = 0;
  let reached!: () => void;
  const all = new Promise<void>((resolve) => (reached = resolve));
  const sub = store.subscribe(0, () => {
    if (++seen === total) reached();
  });
  await Promise.race([all, sub.done]);
  await sub.stop();
  if (seen !== total) throw new Error(`delivered ${seen} events, expected ${total}`);
}

type Measure = `append ×${number}` | `read ×${number}` | 'subscribe';
const measures: Measure[] = [...CALLERS.map((c) => `append ×${c}` as const), ...CALLERS.map((c) => `read ×${c}` as const), 'subscribe'];

/** One round of every measure on one target: operations (or events) per second. */
async function round(target: Target): Promise<Map<Measure, number>> {
  const rates = new Map<Measure, number>();
  const total = streams * EVENTS_PER_STREAM;
  for (const callers of CALLERS) {
    const { store, close } = await target.open();
    try {
      rates.set(`append ×${callers}`, total / (await timed(() => appendAll(store, callers))));
      rates.set(`read ×${callers}`, total / (await timed(() => readAll(store, callers))));
      if (callers === 1) rates.set('subscribe', total / (await timed(() => deliverAll(store, total))));
    } finally {
      await close();
    }
  }
  return rates;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function render(results: ReadonlyMap<string, Map<Measure, number[]>>): string {
  const rate = (n: number) => Math.round(n).toLocaleString('en-US').padStart(11);
  const lines = [`${'measure'.padEnd(12)} ${'in-process/s'.padStart(12)} ${'tcp/s'.padStart(11)}  tcp/in-process`];
  for (const measure of measures) {
    const local = median(results.get('in-process')?.get(measure) ?? [NaN]);
    const tcp = median(results.get('tcp')?.get(measure) ?? [NaN]);
    lines.push(`${measure.padEnd(12)} ${rate(local).padStart(12)} ${rate(tcp)}  ${(tcp / local).toFixed(3).padStart(14)}`);
  }
  return lines.join('\n');
}

const results = new Map<string, Map<Measure, number[]>>(targets.map((t) => [t.name, new Map(measures.map((m) => [m, []]))]));
for (let r = 0; r < rounds; r++) {
  // Alternate which target goes first, so that warm-up and GC do not favour one.
  for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
    const rates = await round(target);
    for (const [measure, value] of rates) results.get(target.name)?.get(measure)?.push(value);
  }
  console.error(`round ${r + 1}/${rounds} done`);
}
console.log(
  `MemoryEventStore in-process vs over TCP (pbes, loopback, same event loop): ${ops} ops per measure, ` +
    `median of ${rounds} rounds; append/read are calls/s (×N = N concurrent callers), subscribe is events/s delivered\n` +
    render(results),
);
