/**
 * Replay benchmark of the event-sourcing pattern: rebuild the orders read model from the
 * whole log, and load every stock item and customer account aggregate, with and without
 * snapshots — for logs of 10k, 100k and 1M events, on the memory store and on PostgreSQL.
 *
 *   npm run bench:replay -- [--sizes 10000,100000,1000000] [--stores memory,postgres]
 *                           [--snapshot-every 50] [--postgres-max 1000000]
 *
 * The log is the pattern's own: orders from the seeded order generator, run through the
 * pattern's aggregates (order, stock item, account) exactly as its processors decide, and
 * appended per stream with the expected version. PostgreSQL runs when DATABASE_URL is set,
 * in a temporary schema dropped afterwards; its fixture is written with
 * synchronous_commit=off (writing is not what is measured here). Sizes above
 * --postgres-max (default 1,000,000) are skipped on PostgreSQL with the estimated time to
 * write them (1M took about 2 minutes to write here).
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { openEventStore, readAllEvents, type EventStore, type JsonObject, type NewEvent } from '../src/event-store/index.js';
import { AccountAggregate } from '../src/patterns/event-sourcing/account-aggregate.js';
import { aggregateTypes, type AggregateTypes } from '../src/patterns/event-sourcing/aggregates.js';
import { accountStream, orderStream, STOCK_EVENTS, stockStream, type StockSettledData } from '../src/patterns/event-sourcing/events.js';
import { OrderAggregate } from '../src/patterns/event-sourcing/order-aggregate.js';
import { OrdersReadModel } from '../src/patterns/event-sourcing/read-model.js';
import { Repository, type AggregateType } from '../src/patterns/event-sourcing/repository.js';
import { StockAggregate } from '../src/patterns/event-sourcing/stock-aggregate.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { World } from '../src/workflow/services.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    stores: { type: 'string', default: 'memory,postgres' },
    'snapshot-every': { type: 'string', default: '50' },
    'postgres-max': { type: 'string', default: '1000000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const snapshotEvery = Number(values['snapshot-every']);
const postgresMax = Number(values['postgres-max']);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1 || !(postgresMax >= 0)) {
  console.error('--sizes and --snapshot-every take positive integers, --postgres-max a number ≥ 0');
  process.exit(2);
}

const specs: string[] = [];
const skipped: string[] = [];
for (const name of values.stores.split(',')) {
  if (name === 'memory') specs.push('memory');
  else if (name === 'postgres') {
    if (process.env.DATABASE_URL === undefined) skipped.push('PostgreSQL rows skipped: DATABASE_URL is not set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
    else specs.push(process.env.DATABASE_URL);
  } else {
    console.error(`unknown store ${JSON.stringify(name)} (known: memory, postgres)`);
    process.exit(2);
  }
}

/** The fixture writer does not need durability: commits without waiting for the disk. */
function fastCommits(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('options')) u.searchParams.set('options', '-c synchronous_commit=off');
  return u.href;
}

interface Buffered {
  /** The stream's version before the buffered events. */
  base: number;
  events: NewEvent[];
}

/**
 * Runs orders through the aggregates in memory, as the processors would, buffering each
 * stream's events; `flush` appends every buffer with its expected version. Snapshots are
 * taken where the live pattern takes them (the append that crosses a multiple of
 * `snapshotEvery`); only each stream's latest is saved, since a store keeps only that one.
 */
class LogWriter {
  readonly types: AggregateTypes;
  private readonly states = new Map<string, { version: number; state: unknown }>();
  private readonly buffers = new Map<string, Buffered>();
  private readonly snapshots = new Map<string, { version: number; state: JsonObject }>();
  private readonly settleable = new Map<string, Set<string>>();
  private buffered = 0;
  written = 0;
  appends = 0;

  constructor(
    private readonly store: EventStore,
    private readonly world: World,
  ) {
    this.types = aggregateTypes(world);
  }

  private decide<S>(type: AggregateType<S>, stream: string, decide: (s: S) => NewEvent[]): NewEvent[] {
    const entry = this.states.get(stream) ?? { version: 0, state: type.initial(stream) };
    this.states.set(stream, entry);
    const events = decide(entry.state as S);
    if (events.length === 0) return events;
    let state = entry.state as S;
    for (const e of events) state = type.apply(state, e);
    const from = entry.version;
    entry.state = state;
    entry.version += events.length;
    if (Math.floor(entry.version / snapshotEvery) > Math.floor(from / snapshotEvery)) {
      this.snapshots.set(stream, { version: entry.version, state: structuredClone(type.toJson(state)) });
    }
    const buffer = this.buffers.get(stream) ?? { base: from, events: [] };
    this.buffers.set(stream, buffer);
    buffer.events.push(...events);
    this.buffered += events.length;
    return events;
  }

  private stockDecision(sku: string, decide: (s: Parameters<typeof StockAggregate.reserve>[0]) => { events: NewEvent[]; ok: boolean }): boolean {
    let ok = false;
    const events = this.decide(this.types.stock, stockStream(sku), (s) => {
      const d = decide(s);
      ok = d.ok;
      const pending = this.settleable.get(sku);
      const settle = d.events.length > 0 && pending && pending.size > 0 ? StockAggregate.settle(s, pending) : undefined;
      return settle ? [...d.events, settle] : d.events;
    });
    const last = events[events.length - 1];
    if (last?.type === STOCK_EVENTS.settled) for (const id of (last.data as unknown as StockSettledData).orderIds) this.settleable.get(sku)?.delete(id);
    return ok;
  }

  /** One order's whole workflow, as inventory and payments would run it. */
  place(order: ReturnType<OrderGenerator['next']>): void {
    const stream = orderStream(order.orderId);
    this.decide(this.types.order, stream, (s) => OrderAggregate.place(s, order));
    const lines = [...order.items].sort((a, b) => (a.sku < b.sku ? -1 : 1));
    const held: string[] = [];
    let reserved = true;
    for (const line of lines) {
      if (!this.stockDecision(line.sku, (s) => StockAggregate.reserve(s, order.orderId, line.qty))) {
        reserved = false;
        break;
      }
      held.push(line.sku);
    }
    if (!reserved) for (const sku of held) this.stockDecision(sku, (s) => StockAggregate.release(s, order.orderId));
    this.decide(this.types.order, stream, (s) => OrderAggregate.recordStock(s, reserved));
    if (!reserved) return;
    let charged = false;
    this.decide(this.types.account, accountStream(order.customerId), (s) => {
      const d = AccountAggregate.charge(s, order.orderId, order.amountCents);
      charged = d.ok;
      return d.events;
    });
    this.decide(this.types.order, stream, (s) => OrderAggregate.recordPayment(s, charged));
    if (charged) {
      for (const line of lines) {
        const pending = this.settleable.get(line.sku) ?? new Set<string>();
        this.settleable.set(line.sku, pending.add(order.orderId));
      }
    } else {
      for (const line of lines) this.stockDecision(line.sku, (s) => StockAggregate.release(s, order.orderId));
    }
  }

  get pending(): number {
    return this.buffered;
  }

  /** Appends every buffered stream (a few writers at once), each with its expected version. */
  async flush(writers = 4): Promise<void> {
    const work = [...this.buffers];
    this.buffers.clear();
    this.buffered = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = next++; i < work.length; i = next++) {
          const [stream, { base, events }] = work[i] as [string, Buffered];
          for (let at = 0; at < events.length; at += 500) {
            await this.store.append(stream, events.slice(at, at + 500), base + at);
            this.appends++;
          }
          this.written += events.length;
        }
      }),
    );
  }

  async saveSnapshots(): Promise<number> {
    for (const [stream, { version, state }] of this.snapshots) await this.store.saveSnapshot(stream, version, state);
    return this.snapshots.size;
  }

  /** The stock item and account streams: the aggregates a processor loads. */
  aggregateStreams(): string[] {
    return [...this.states.keys()].filter((s) => !s.startsWith('order-'));
  }
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en-US');
const fmt = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

const table = new Table({
  head: ['store', 'events', 'operation', 'snapshots', 'time', 'events/s', 'detail'],
  colAligns: ['left', 'right', 'left', 'left', 'right', 'right', 'left'],
});
const notes: string[] = [...skipped];

for (const spec of specs) {
  const kind = spec === 'memory' ? 'memory' : 'postgres';
  let appendRate: number | undefined;
  for (const n of sizes) {
    if (kind === 'postgres' && n > postgresMax) {
      const estimate = appendRate ? ` (fixture alone ≈ ${Math.round(n / appendRate / 60)} min at the ${Math.round(appendRate).toLocaleString('en-US')} events/s measured here)` : '';
      notes.push(`PostgreSQL ${n.toLocaleString('en-US')} events skipped: above --postgres-max ${postgresMax.toLocaleString('en-US')}${estimate}; pass --postgres-max ${n} to run it`);
      continue;
    }
    const store = await openEventStore(kind === 'memory' ? spec : fastCommits(spec));
    try {
      const random = seededRandom(42);
      const generator = new OrderGenerator(random.fork());
      const writer = new LogWriter(store, generator.world());
      let t0 = process.hrtime.bigint();
      let orders = 0;
      while (writer.written + writer.pending < n) {
        writer.place(generator.next());
        orders++;
        if (writer.pending >= 20_000) await writer.flush();
      }
      await writer.flush();
      const saved = await writer.saveSnapshots();
      const writeSeconds = seconds(t0);
      appendRate = writer.written / writeSeconds;
      notes.push(
        `${kind} ${n.toLocaleString('en-US')}: fixture of ${writer.written.toLocaleString('en-US')} events (${orders.toLocaleString('en-US')} orders, ` +
          `${writer.appends.toLocaleString('en-US')} appends, ${saved} snapshots) written in ${fmt(writeSeconds)} (${rate(writer.written, writeSeconds)} events/s)`,
      );

      // Rebuild the read model from the whole log.
      t0 = process.hrtime.bigint();
      const model = new OrdersReadModel();
      let read = 0;
      for await (const event of readAllEvents(store, 0, 1000)) {
        model.apply(event);
        read++;
      }
      const rebuild = seconds(t0);
      if (read !== writer.written) throw new Error(`read ${read} events, wrote ${writer.written}`);
      table.push([kind, read.toLocaleString('en-US'), 'rebuild read model', '—', fmt(rebuild), rate(read, rebuild), `${model.size.toLocaleString('en-US')} orders`]);

      // Load every stock item and account aggregate, from snapshots and from events only.
      const streams = writer.aggregateStreams();
      const { types } = writer;
      for (const useSnapshots of [true, false]) {
        const repo = new Repository(store, { snapshotEvery: 0, useSnapshots, random });
        t0 = process.hrtime.bigint();
        let covered = 0;
        for (const stream of streams) {
          const loaded = stream.startsWith('stock-') ? await repo.load(types.stock, stream) : await repo.load(types.account, stream);
          covered += loaded.version;
        }
        const took = seconds(t0);
        table.push([
          kind,
          read.toLocaleString('en-US'),
          `load ${streams.length} aggregates`,
          useSnapshots ? `every ${snapshotEvery}` : 'none',
          fmt(took),
          rate(covered, took),
          `${covered.toLocaleString('en-US')} events folded or skipped`,
        ]);
      }
    } finally {
      await store.close();
    }
  }
}

console.log(table.toString());
for (const note of notes) console.log(`- ${note}`);
console.log('events/s for loads: events the loaded states stand for (stream versions), per second of loading.');
