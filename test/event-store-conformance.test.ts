import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectEventStore,
  EventStoreClosedError,
  MemoryEventStore,
  openPostgresEventStore,
  readAllEvents,
  startEventStoreServer,
  WrongExpectedVersionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
} from '../src/event-store/index.js';
import { DATABASE_URL, POSTGRES_RUNS } from './support/stores.js';


// `propertyRuns`: fast-check runs of the property test (PostgreSQL appends cost milliseconds).
const stores: { name: string; open: () => Promise<EventStore>; run: boolean; propertyRuns: number }[] = [
  { name: 'memory', open: async () => new MemoryEventStore(), run: true, propertyRuns: 100 },
  {
    name: 'postgres',
    // A fresh temporary schema per store, dropped by close().
    open: () => openPostgresEventStore(DATABASE_URL ?? '', { connectTimeoutMs: 3000 }),
    run: POSTGRES_RUNS,
    propertyRuns: 20,
  },
  {
    name: 'remote (memory store over TCP)',
    // A server per store; closing the client closes its server too.
    open: async () => {
      const server = await startEventStoreServer();
      const store = await connectEventStore(server.url);
      const closeClient = store.close.bind(store);
      return Object.assign(store, {
        close: async () => {
          await closeClient();
          await server.close();
        },
      });
    },
    run: true,
    propertyRuns: 100,
  },
];

function events(n: number, type = 'Happened', from = 0): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type, data: { i: from + i } }));
}

/** Subscribes and resolves once `count` events were handled. */
function collect(
  store: EventStore,
  afterPosition: number,
  count: number,
  options: { batchSize?: number; slow?: boolean } = {},
): { sub: Subscription; seen: RecordedEvent[]; reached: Promise<void> } {
  const seen: RecordedEvent[] = [];
  let reachedResolve!: () => void;
  const reached = new Promise<void>((resolve) => (reachedResolve = resolve));
  if (count === 0) reachedResolve();
  const sub = store.subscribe(
    afterPosition,
    async (event) => {
      seen.push(event);
      // Awaited handlers: yield now and then so that appends interleave with delivery.
      if (options.slow === true && event.position % 3 === 0) await tick();
      if (seen.length === count) reachedResolve();
    },
    { batchSize: options.batchSize ?? 7 },
  );
  return { sub, seen, reached: Promise.race([reached, sub.done.then(() => Promise.reject(new Error('subscription ended early')))]) };
}

// One suite for every store; a store that does not run shows as skipped.
for (const { name, open, run, propertyRuns } of stores) describe.skipIf(!run)(`event store: ${name}`, () => {
  const opened: EventStore[] = [];
  async function fresh(): Promise<EventStore> {
    const store = await open();
    opened.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('head() is 0 for an empty log and the last position after appends to several streams', async () => {
    const store = await fresh();
    expect(await store.head()).toBe(0);
    await store.append('a', events(3), 0);
    const last = await store.append('b', events(2), 0);
    expect(await store.head()).toBe(last.positions[1]);
    const all = await store.readAll(0, 100);
    expect(await store.head()).toBe(all[all.length - 1]?.position);
  });

  it('appends and reads a stream back in version order', async () => {
    const store = await fresh();
    const first = await store.append('order-1', [
      { type: 'OrderPlaced', data: { amountCents: 1200, items: [{ sku: 'a', qty: 2 }] }, metadata: { correlationId: 'c1' } },
      { type: 'ItemsReserved', data: { ok: true, note: null } },
    ], 0);
    expect(first.version).toBe(2);
    expect(first.positions).toHaveLength(2);
    const second = await store.append('order-1', [{ type: 'PaymentCharged', data: { cents: 1200 } }], 2);
    expect(second.version).toBe(3);

    const read = await store.readStream('order-1');
    expect(read.map((e) => [e.stream, e.version, e.type])).toEqual([
      ['order-1', 1, 'OrderPlaced'],
      ['order-1', 2, 'ItemsReserved'],
      ['order-1', 3, 'PaymentCharged'],
    ]);
    expect(read[0]?.data).toEqual({ amountCents: 1200, items: [{ sku: 'a', qty: 2 }] });
    expect(read[0]?.metadata).toEqual({ correlationId: 'c1' });
    expect(read[1] !== undefined && 'metadata' in read[1]).toBe(false);
    expect(read.map((e) => e.position)).toEqual([...first.positions, ...second.positions]);
    for (const e of read) expect(Math.abs(e.recordedAt - Date.now())).toBeLessThan(60_000);

    expect((await store.readStream('order-1', 2)).map((e) => e.version)).toEqual([3]);
    expect(await store.readStream('order-1', 3)).toEqual([]);
    expect(await store.readStream('never-written')).toEqual([]);
  });

  it('refuses a wrong expected version with a typed error and writes nothing', async () => {
    const store = await fresh();
    await store.append('s', events(2), 0);
    const err = await store.append('s', events(1), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongExpectedVersionError);
    expect(err).toMatchObject({ code: 'PB_ERR_WRONG_EXPECTED_VERSION', stream: 's', expected: 1, actual: 2 });
    expect((err as Error).message).toBe('wrong expected version for stream "s": expected 1, actual 2');
    await expect(store.append('new', events(1), 3)).rejects.toMatchObject({ expected: 3, actual: 0 });
    await expect(store.append('s', [], 0)).rejects.toMatchObject({ expected: 0, actual: 2 });
    expect(await store.readStream('s')).toHaveLength(2);
    expect(await store.readStream('new')).toEqual([]);

    expect(await store.append('s', events(1), 'any')).toMatchObject({ version: 3 });
    expect(await store.append('fresh', events(1), 'any')).toMatchObject({ version: 1 });
    expect(await store.append('s', [], 3)).toEqual({ version: 3, positions: [] });
  });

  it('lets exactly one of several concurrent appends with the same expected version win', async () => {
    const store = await fresh();
    await store.append('contended', events(1), 0);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, w) => store.append('contended', events(2, `Writer${w}`), 1)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toBeInstanceOf(WrongExpectedVersionError);
    const read = await store.readStream('contended');
    expect(read.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(new Set(read.slice(1).map((e) => e.type)).size).toBe(1);
  });

  it('keeps one strictly increasing global order across streams, readable in batches', async () => {
    const store = await fresh();
    const appended: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const stream of ['a', 'b', 'c']) {
        const { positions } = await store.append(stream, events(round + 1), 'any');
        appended.push(...positions);
      }
    }
    const all = await store.readAll(0, 10_000);
    expect(all.map((e) => e.position)).toEqual(appended);
    for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);

    const paged: number[] = [];
    let after = 0;
    for (;;) {
      const batch = await store.readAll(after, 4);
      if (batch.length === 0) break;
      expect(batch.length).toBeLessThanOrEqual(4);
      paged.push(...batch.map((e) => e.position));
      after = batch[batch.length - 1]!.position;
    }
    expect(paged).toEqual(appended);
    const iterated: number[] = [];
    for await (const e of readAllEvents(store, appended[9], 4)) iterated.push(e.position);
    expect(iterated).toEqual(appended.slice(10));
  });

  it('delivers catch-up then live events once each, in order, while appends run concurrently', async () => {
    const store = await fresh();
    for (let i = 0; i < 5; i++) await store.append(`pre-${i}`, events(10), 0);
    const writers = 4;
    const perWriter = 40;
    const total = 50 + writers * perWriter;
    const { sub, seen, reached } = collect(store, 0, total, { batchSize: 7, slow: true });
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i += 2) {
          await store.append(`live-${w}`, events(2, 'Live', i), i);
          if (i % 8 === 0) await tick();
        }
      }),
    );
    await reached;
    await sub.caughtUp;
    await sub.stop();
    const log = await store.readAll(0, 10_000);
    expect(log).toHaveLength(total);
    expect(seen.map((e) => e.position)).toEqual(log.map((e) => e.position));
    expect(sub.checkpoint).toBe(log[log.length - 1]!.position);
  });

  it('resumes from a saved checkpoint exactly where a stopped subscription left off', async () => {
    const store = await fresh();
    for (let i = 0; i < 6; i++) await store.append(`s-${i}`, events(5), 0);
    const first: RecordedEvent[] = [];
    let stopping: Promise<void> | undefined;
    const sub1 = store.subscribe(
      0,
      (event) => {
        first.push(event);
        // Stopping from inside the handler: this event still counts as handled.
        if (first.length === 13) stopping = sub1.stop();
      },
      { batchSize: 4 },
    );
    await sub1.done;
    await stopping;
    expect(first).toHaveLength(13);
    expect(sub1.checkpoint).toBe(first[12]!.position);

    const more = Promise.all(
      Array.from({ length: 3 }, async (_, w) => {
        for (let i = 0; i < 10; i++) await store.append(`more-${w}`, events(1), i);
      }),
    );
    const rest = collect(store, sub1.checkpoint, 30 - 13 + 30, { batchSize: 4 });
    await more;
    await rest.reached;
    await rest.sub.stop();

    const whole = collect(store, 0, 60, { batchSize: 9 });
    await whole.reached;
    await whole.sub.stop();
    expect([...first, ...rest.seen].map((e) => e.position)).toEqual(whole.seen.map((e) => e.position));
    expect(whole.seen).toHaveLength(60);
  });

  it('ends a subscription whose handler throws, keeping the last good checkpoint', async () => {
    const store = await fresh();
    const { positions } = await store.append('s', events(5), 0);
    const boom = new Error('projection failed');
    const sub = store.subscribe(0, (event) => {
      if (event.version === 3) throw boom;
    });
    await expect(sub.done).rejects.toBe(boom);
    expect(sub.checkpoint).toBe(positions[1]);
    await sub.stop();
  });

  it('stores and loads snapshots, keeping the newest', async () => {
    const store = await fresh();
    expect(await store.loadSnapshot('order-1')).toBeUndefined();
    await store.saveSnapshot('order-1', 5, { status: 'RESERVED', items: [1, 2] });
    const snap = await store.loadSnapshot('order-1');
    expect(snap).toMatchObject({ version: 5, state: { status: 'RESERVED', items: [1, 2] } });
    expect(Math.abs((snap?.savedAt ?? 0) - Date.now())).toBeLessThan(60_000);
    await store.saveSnapshot('order-1', 3, { status: 'PENDING' });
    expect(await store.loadSnapshot('order-1')).toMatchObject({ version: 5, state: { status: 'RESERVED' } });
    await store.saveSnapshot('order-1', 8, { status: 'CONFIRMED' });
    expect(await store.loadSnapshot('order-1')).toMatchObject({ version: 8, state: { status: 'CONFIRMED' } });
    expect(await store.loadSnapshot('order-2')).toBeUndefined();
  });

  it('close() stops subscriptions, refuses further use and leaves no handle open', async () => {
    const before = handles();
    const store = await open();
    await store.append('s', events(3), 0);
    const { sub, reached } = collect(store, 0, 3);
    await reached;
    await store.close();
    await expect(sub.done).resolves.toBeUndefined();
    await store.close();
    const err = await store.append('s', events(1), 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventStoreClosedError);
    expect(err).toMatchObject({ code: 'PB_ERR_EVENT_STORE_CLOSED', message: `the ${store.kind} event store is closed` });
    expect(() => store.subscribe(0, () => {})).toThrow(EventStoreClosedError);
    await tick();
    // Nothing this store opened is left: no more sockets or timers than before it opened
    // (fewer is fine: a timer of an earlier test may have finished meanwhile).
    const after = handles();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });

  it('property: concurrent writers leave contiguous stream versions and a strict global order', async () => {
    const store = await fresh();
    let run = 0;
    let start = 0; // last position of the previous runs, which share the store
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ stream: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 3 }), stale: fc.boolean(), any: fc.boolean() }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (appends, writers) => {
          const prefix = `run${run++}-`;
          const known = new Map<string, number>();
          let written = 0;
          // Each writer works through its share in order; the writers run concurrently.
          await Promise.all(
            Array.from({ length: writers }, async (_, w) => {
              for (const [i, a] of appends.entries()) {
                if (i % writers !== w) continue;
                const stream = `${prefix}${a.stream}`;
                const expected = a.any ? 'any' : (known.get(stream) ?? 0) + (a.stale ? 1 : 0);
                try {
                  const r = await store.append(stream, events(a.count), expected);
                  known.set(stream, r.version);
                  written += a.count;
                } catch (err) {
                  if (!(err instanceof WrongExpectedVersionError)) throw err;
                  known.set(stream, err.actual);
                }
              }
            }),
          );
          const log = await store.readAll(start, 1_000_000);
          start = log.at(-1)?.position ?? start;
          expect(log).toHaveLength(written);
          for (let i = 1; i < log.length; i++) expect(log[i]!.position).toBeGreaterThan(log[i - 1]!.position);
          for (let s = 0; s < 4; s++) {
            const stream = `${prefix}${s}`;
            const versions = (await store.readStream(stream)).map((e) => e.version);
            expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
            expect(log.filter((e) => e.stream === stream).map((e) => e.version)).toEqual(versions);
          }
        },
      ),
      { numRuns: propertyRuns },
    );
  });
});

/** Sockets and timers the process holds (what would keep it alive). */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'Timeout' || kind === 'PipeWrap') counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
