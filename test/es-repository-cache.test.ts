/**
 * The repository keeps each stream's state after its own append, and the next command on
 * that stream decides on it without reading the store; the append's expected version still
 * guards it. A stream another writer moved since conflicts once and is read afresh.
 */
import { describe, expect, it } from 'vitest';
import { MemoryEventStore, type EventStore } from '../src/event-store/index.js';
import { Repository, type AggregateType } from '../src/patterns/event-sourcing/repository.js';
import { seededRandom } from '../src/random.js';

interface Counter {
  n: number;
}

const counter: AggregateType<Counter> = {
  name: 'counter',
  kept: true,
  initial: () => ({ n: 0 }),
  // Folds in place, as the real aggregates may.
  apply: (state, event) => {
    if (event.type === 'Added') state.n += Number(event.data.by);
    return state;
  },
  toJson: (state) => ({ n: state.n }),
  fromJson: (json) => ({ n: Number(json.n) }),
};

/** A memory store that counts the reads a repository makes. */
function countingStore(): { store: EventStore; reads: () => number } {
  const store = new MemoryEventStore();
  let reads = 0;
  const readStream = store.readStream.bind(store);
  const loadSnapshot = store.loadSnapshot.bind(store);
  store.readStream = (stream, after) => {
    reads++;
    return readStream(stream, after);
  };
  store.loadSnapshot = (stream) => {
    reads++;
    return loadSnapshot(stream);
  };
  return { store, reads: () => reads };
}

const add = (by: number) => (state: Counter) => ({ events: [{ type: 'Added', data: { by } }], result: state.n + by });

describe('repository: the states it keeps', () => {
  it('decides the next command on a stream it appended to without reading the store: 3 commands on one stream read it once (snapshot + events)', async () => {
    const { store, reads } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1) });
    expect(await repo.execute(counter, 'c-1', add(1))).toBe(1);
    expect(reads()).toBe(2);
    expect(await repo.execute(counter, 'c-1', add(2))).toBe(3);
    expect(await repo.execute(counter, 'c-1', add(3))).toBe(6);
    expect(reads()).toBe(2);
    expect((await store.readStream('c-1')).map((e) => e.version)).toEqual([1, 2, 3]);
    expect(repo.counters).toMatchObject({ conflicts: 0, appended: 3 });
  });

  it('a stream another writer moved since: the append conflicts once, the stream is read afresh and the command decides on what the other wrote', async () => {
    const { store } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1) });
    const other = new Repository(store, { snapshotEvery: 0, random: seededRandom(2) });
    await repo.execute(counter, 'c-1', add(1));
    await other.execute(counter, 'c-1', add(10));
    expect(await repo.execute(counter, 'c-1', add(100))).toBe(111);
    expect(repo.counters).toMatchObject({ conflicts: 1, retries: 1, appended: 2 });
    expect((await repo.load(counter, 'c-1')).state.n).toBe(111);
  });

  it('forget() drops every kept state, and the cache holds at most cacheStreams streams, the least recently used out first', async () => {
    const { store, reads } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1), cacheStreams: 2 });
    for (const s of ['a', 'b', 'c']) await repo.execute(counter, s, add(1));
    expect(reads()).toBe(6);
    await repo.execute(counter, 'c', add(1)); // kept
    await repo.execute(counter, 'b', add(1)); // kept
    expect(reads()).toBe(6);
    await repo.execute(counter, 'a', add(1)); // dropped when c came in: read again
    expect(reads()).toBe(8);
    repo.forget();
    expect(await repo.execute(counter, 'a', add(1))).toBe(3);
    expect(reads()).toBe(10);
  });

  it('saves a snapshot of the state after the append, folded once: at version 2 with snapshotEvery 2 the snapshot holds n = 3', async () => {
    const { store } = countingStore();
    const repo = new Repository(store, { snapshotEvery: 2, random: seededRandom(1) });
    await repo.execute(counter, 'c-1', add(1));
    await repo.execute(counter, 'c-1', add(2));
    expect(await store.loadSnapshot('c-1')).toMatchObject({ version: 2, state: { n: 3 } });
    expect(await repo.execute(counter, 'c-1', add(4))).toBe(7);
  });
});

describe('repository: streams others write too', () => {
  it('an aggregate type not marked kept is read from the store for every command, so a no-op decision sees what others wrote', async () => {
    const { store, reads } = countingStore();
    const shared: AggregateType<Counter> = { ...counter, kept: false };
    const repo = new Repository(store, { snapshotEvery: 0, random: seededRandom(1) });
    const other = new Repository(store, { snapshotEvery: 0, random: seededRandom(2) });
    await repo.execute(shared, 'o-1', add(1));
    await other.execute(shared, 'o-1', add(1));
    // Nothing to do once the counter reached 2: decided on the store's state, not on the 1 this repository appended.
    const upTo2 = (state: Counter) => ({ events: state.n >= 2 ? [] : [{ type: 'Added', data: { by: 1 } }], result: state.n });
    expect(await repo.execute(shared, 'o-1', upTo2)).toBe(2);
    expect(reads()).toBe(3 * 2);
    expect((await store.readStream('o-1')).length).toBe(2);
  });
});
