import { describe, expect, it } from 'vitest';
import { InvalidOptionError, UnknownNameError } from '../src/errors.js';
import { createToxic, FAULT_TYPES, type FaultSpec } from '../src/faults/toxics/registry.js';
import { isRefusing } from '../src/faults/toxics/types.js';

describe('fault specs', () => {
  it('fills in the defaults: downstream, probability 1, name <type>_<direction>', () => {
    const t = createToxic({ type: 'latency', latencyMs: 10 });
    expect(t).toMatchObject({ type: 'latency', name: 'latency_downstream', direction: 'downstream', probability: 1, params: { latencyMs: 10, jitterMs: 0 } });
    expect(createToxic({ type: 'down' }).name).toBe('down');
    expect(isRefusing(createToxic({ type: 'down' }))).toBe(true);
    expect(isRefusing(t)).toBe(false);
  });

  it('knows six fault types', () => {
    expect(FAULT_TYPES).toEqual(['latency', 'bandwidth', 'timeout', 'reset_peer', 'down', 'slicer']);
  });

  it.each<[FaultSpec, string]>([
    [{ type: 'latency', latencyMs: -1 }, 'invalid value for fault latency.latencyMs: -1 (expected a number >= 0)'],
    [{ type: 'latency', latencyMs: 5, probability: 1.5 }, 'invalid value for fault latency.probability: 1.5 (expected a number from 0 to 1)'],
    [{ type: 'bandwidth', rateKBps: 0 }, 'invalid value for fault bandwidth.rateKBps: 0 (expected a number >= 0.001)'],
    [{ type: 'timeout', timeoutMs: Number.NaN }, 'invalid value for fault timeout.timeoutMs: null (expected a number >= 0)'],
    [{ type: 'slicer', averageSize: 10, sizeVariation: 10 }, 'invalid value for fault slicer.sizeVariation: 10 (expected a number < averageSize (10))'],
    [{ type: 'reset_peer', direction: 'sideways' as 'upstream' }, 'invalid value for fault reset_peer.direction: "sideways" (expected upstream or downstream)'],
  ])('rejects %j', (spec, message) => {
    expect(() => createToxic(spec)).toThrow(InvalidOptionError);
    expect(() => createToxic(spec)).toThrow(message);
  });

  it('rejects an unknown type, naming the known ones', () => {
    const spec = { type: 'toString' } as unknown as FaultSpec;
    expect(() => createToxic(spec)).toThrow(UnknownNameError);
    expect(() => createToxic(spec)).toThrow('unknown value for fault type: "toString" (known: latency, bandwidth, timeout, reset_peer, down, slicer)');
  });
});
