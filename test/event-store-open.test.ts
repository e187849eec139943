import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, ServiceUnreachableError } from '../src/errors.js';
import {
  EventStoreClosedError,
  MemoryEventStore,
  openEventStore,
  WrongExpectedVersionError,
} from '../src/event-store/index.js';
import { sleep, until, useFakeClock } from './faults-support.js';

const EXPECTED = '"memory" or a postgres://user@host:port/database URL';

describe('openEventStore', () => {
  it('opens the memory store', async () => {
    const store = await openEventStore('memory');
    expect(store).toBeInstanceOf(MemoryEventStore);
    expect(store.kind).toBe('memory');
    await store.close();
  });

  it.each(['nope', 'Memory', '', 'mysql://root@127.0.0.1/db', 'postgres://', 'postgres://[::1/db'])(
    'rejects %j as an invalid --event-store',
    async (spec) => {
      const err = await openEventStore(spec).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err).toMatchObject({ code: 'PB_ERR_INVALID_OPTION', exitCode: 2, option: '--event-store', value: spec });
      expect((err as Error).message).toBe(`invalid value for --event-store: ${JSON.stringify(spec)} (expected ${EXPECTED})`);
    },
  );

  it('reports a refused connection as an unreachable --event-store', async () => {
    const err = await openEventStore('postgres://postgres@127.0.0.1:1/test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect(err).toMatchObject({ code: 'PB_ERR_SERVICE_UNREACHABLE', exitCode: 2, option: '--event-store' });
    expect((err as Error).message).toBe(
      'cannot reach --event-store "postgres://postgres@127.0.0.1:1/test": connection refused',
    );
  });

  it('does not repeat a password in the error', async () => {
    const err = await openEventStore('postgres://bench:s3cret@127.0.0.1:1/test').catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'cannot reach --event-store "postgres://bench:***@127.0.0.1:1/test": connection refused',
    );
  });

  describe('a server that never answers', () => {
    let server: Server | undefined;
    const sockets = new Set<Socket>();
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server?.close(resolve));
    });
    const clock = useFakeClock();

    it('times out after connectTimeoutMs of clock, not before', async () => {
      server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const url = `postgres://postgres@127.0.0.1:${port}/test`;
      let err: unknown = 'pending';
      const opening = openEventStore(url, { connectTimeoutMs: 200 }).catch((e: unknown) => (err = e));
      await until(() => sockets.size === 1); // connected, and waiting for an answer
      await clock.advance(199);
      await sleep(20); // real time for the error of a timeout that fired to come through
      expect(err).toBe('pending');
      await clock.advance(1);
      await opening;
      expect(err).toBeInstanceOf(ServiceUnreachableError);
      expect((err as Error).message).toBe(`cannot reach --event-store "${url}": no answer within 200 ms`);
    });
  });
});

describe('event store errors', () => {
  it('pins WrongExpectedVersionError', () => {
    const err = new WrongExpectedVersionError('order-7', 0, 3);
    expect(err).toMatchObject({ code: 'PB_ERR_WRONG_EXPECTED_VERSION', exitCode: 1, name: 'WrongExpectedVersionError' });
    expect(err.message).toBe('wrong expected version for stream "order-7": expected 0, actual 3');
  });

  it('pins EventStoreClosedError', () => {
    const err = new EventStoreClosedError('postgres');
    expect(err).toMatchObject({ code: 'PB_ERR_EVENT_STORE_CLOSED', exitCode: 1, name: 'EventStoreClosedError' });
    expect(err.message).toBe('the postgres event store is closed');
  });
});
