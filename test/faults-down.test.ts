import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultProxy } from '../src/faults/proxy.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, outcome, readBytes, startEcho, until, startProxy, type TestServer } from './faults-support.js';

describe('down fault', () => {
  let echo: TestServer;
  let proxy: FaultProxy;
  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startProxy(echo.address);
  });
  afterEach(async () => {
    await proxy.close();
    await echo.close();
  });

  it('closes open connections, refuses new ones without dialling the server, and is back once removed', async () => {
    const open = await dial(proxy.address);
    open.write('hi');
    await readBytes(open, 2);
    const openEnded = outcome(open);

    proxy.addToxic(createToxic({ type: 'down' }));
    expect((await openEnded).how).toBe('end');
    open.destroy();
    await until(() => echo.sockets.size === 0);

    // Reset right after the accept: the client sees ECONNRESET, at connect or at its first read.
    const refused = connect({ ...proxy.address, noDelay: true });
    refused.write('anyone?');
    expect((await outcome(refused)).how).toBe('ECONNRESET');
    expect(echo.sockets.size).toBe(0);
    await until(() => proxy.stats().open === 0);
    expect(proxy.stats()).toMatchObject({ connections: 2, refused: 1, closes: 1 });

    proxy.removeToxic('down');
    const back = await dial(proxy.address);
    back.write('back');
    expect((await readBytes(back, 4)).data.toString()).toBe('back');
    back.destroy();
  });
});
