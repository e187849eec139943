import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createToxic } from '../src/faults/toxics/registry.js';
import { dial, echoProxyFixture, outcome, readBytes, until } from './faults-support.js';

describe('down fault', () => {
  const f = echoProxyFixture();

  it('closes open connections, refuses new ones without dialling the server, and is back once removed', async () => {
    const open = await dial(f.proxy.address);
    open.write('hi');
    await readBytes(open, 2);
    const openEnded = outcome(open);

    f.proxy.addToxic(createToxic({ type: 'down' }));
    expect((await openEnded).how).toBe('end');
    open.destroy();
    await until(() => f.echo.sockets.size === 0);

    // Reset right after the accept: the client sees ECONNRESET, at connect or at its first read.
    const refused = connect({ ...f.proxy.address, noDelay: true });
    refused.write('anyone?');
    expect((await outcome(refused)).how).toBe('ECONNRESET');
    expect(f.echo.sockets.size).toBe(0);
    await until(() => f.proxy.stats().open === 0);
    expect(f.proxy.stats()).toMatchObject({ connections: 2, refused: 1, closes: 1 });

    f.proxy.removeToxic('down');
    const back = await dial(f.proxy.address);
    back.write('back');
    expect((await readBytes(back, 4)).data.toString()).toBe('back');
    back.destroy();
  });
});
