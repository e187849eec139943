/**
 * Append-then-replay throughput of the event stores.
 *
 *   node dist/bench/replay-store.js [--sizes 10000,100000,1000000] [--per-append 1]
 *                                   [--writers 4] [--stores memory,postgres]
 *
 * For each size N: N events are appended (`--per-append` events per call, one stream per
 * 5 events like a small order, `--writers` concurrent writers, expected version checked),
 * then read back with `readAllEvents` in batches of 1000. Prints events/s for both phases.
 * PostgreSQL runs when DATABASE_URL is set, in a temporary schema that is dropped afterwards.
 */
import { parseArgs } from 'node:util';
import { openEventStore, readAllEvents, type EventStore, type NewEvent } from '../src/event-store/index.js';

const EVENTS_PER_STREAM = 5;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    'per-append': { type: 'string', default: '1' },
    writers: { type: 'string', default: '4' },
    stores: { type: 'string', default: 'memory,postgres' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const perAppend = Number(values['per-append']);
const writers = Number(values.writers);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !(perAppend >= 1) || !(writers >= 1)) {
  console.error('--sizes, --per-append and --writers take positive integers');
  process.exit(2);
}
if (EVENTS_PER_STREAM % perAppend !== 0) {
  console.error(`--per-append must divide ${EVENTS_PER_STREAM}`);
  process.exit(2);
}

const specs: string[] = [];
for (const name of values.stores.split(',')) {
  if (name === 'memory') specs.push('memory');
  else if (name === 'postgres') {
    if (process.env.DATABASE_URL === undefined) console.error('postgres: skipped (DATABASE_URL is not set)');
    else specs.push(process.env.DATABASE_URL);
  } else {
    console.error(`unknown store ${JSON.stringify(name)} (known: memory, postgres)`);
    process.exit(2);
  }
}

/** Event payloads are built before timing starts. */
const payload: NewEvent[] = Array.from({ length: perAppend }, (_, i) => ({
  type: i === 0 ? 'OrderPlaced' : 'OrderProgressed',
  data: { orderId: 'order-000000', customerId: 'customer-42', amountCents: 12_345, items: [{ sku: 'sku-7', qty: 2 }] },
}));

async function appendAll(store: EventStore, total: number): Promise<void> {
  const streams = Math.ceil(total / EVENTS_PER_STREAM);
  let next = 0;
  // Writers take whole streams, so that each stream's appends stay in order.
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let s = next++; s < streams; s = next++) {
        const stream = `order-${s}`;
        const count = Math.min(EVENTS_PER_STREAM, total - s * EVENTS_PER_STREAM);
        for (let version = 0; version < count; version += perAppend) {
          await store.append(stream, payload.slice(0, Math.min(perAppend, count - version)), version);
        }
      }
    }),
  );
}

for (const spec of specs) {
  const kind = spec === 'memory' ? 'memory' : 'postgres';
  for (const n of sizes) {
    const store = await openEventStore(spec);
    try {
      let started = process.hrtime.bigint();
      await appendAll(store, n);
      const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;

      started = process.hrtime.bigint();
      let read = 0;
      let checksum = 0;
      for await (const event of readAllEvents(store, 0, 1000)) {
        read++;
        checksum += event.version;
      }
      const readSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (read !== n) throw new Error(`read ${read} events, appended ${n}`);

      const rate = (count: number, seconds: number) => Math.round(count / seconds).toLocaleString('en-US');
      console.log(
        `${kind.padEnd(8)} N=${String(n).padStart(8)}  append ${rate(n, appendSeconds).padStart(10)} events/s ` +
          `(${perAppend}/call, ${writers} writers, ${appendSeconds.toFixed(2)} s)  ` +
          `readAll ${rate(n, readSeconds).padStart(10)} events/s (${readSeconds.toFixed(2)} s)  [checksum ${checksum}]`,
      );
    } finally {
      await store.close();
    }
  }
}
