import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultNetwork } from '../src/faults/network.js';
import { createToxic } from '../src/faults/toxics/registry.js';
import { seededRandom } from '../src/random.js';
import type { Address } from '../src/patterns/types.js';
import { outcome, readBytes, startEcho, startProxy, type TestServer } from './faults-support.js';

/** Dial `n` connections one after another; true for each one the proxy refused. */
async function refusals(address: Address, n: number): Promise<boolean[]> {
  const result: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect({ ...address, noDelay: true });
    const ended = outcome(s);
    s.write('?');
    const refused = await Promise.race([readBytes(s, 1).then(() => false, () => true), ended.then(() => true)]);
    s.destroy();
    await ended;
    result.push(refused);
  }
  return result;
}

describe('fault schedule is seeded', () => {
  let echo: TestServer;
  beforeEach(async () => {
    echo = await startEcho();
  });
  afterEach(async () => {
    await echo.close();
  });

  async function schedule(seed: number): Promise<boolean[]> {
    const proxy = await startProxy(echo.address, seed);
    proxy.addToxic(createToxic({ type: 'down', probability: 0.5 }));
    try {
      return await refusals(proxy.address, 30);
    } finally {
      await proxy.close();
    }
  }

  it('same seed and same connections: the same connections get the fault', async () => {
    const a = await schedule(42);
    const b = await schedule(42);
    expect(a).toEqual(b);
    expect(a.filter(Boolean).length).toBeGreaterThan(5);
    expect(a.filter((x) => !x).length).toBeGreaterThan(5);
    const c = await schedule(43);
    expect(c).not.toEqual(a);
  });

  it('per hop: one hop\'s traffic does not shift another hop\'s draws', async () => {
    async function run(extraTraffic: boolean): Promise<boolean[]> {
      const net = new FaultNetwork(seededRandom(7));
      try {
        const a = await net.route('t:a', echo.address);
        const b = await net.route('t:b', echo.address);
        net.addFault('t:*', { type: 'down', probability: 0.5 });
        if (extraTraffic) await refusals(a, 7);
        return await refusals(b, 20);
      } finally {
        await net.close();
      }
    }
    expect(await run(true)).toEqual(await run(false));
  });
});
