import { TaskCancelledError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { CircuitOpenError, DEFAULT_RESILIENCE, NO_RESILIENCE, describePolicy, withResilience, type Hop } from '../src/resilience/policies.js';
import type { WorkflowPorts } from '../src/workflow/workflow.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { useFakeClock } from './faults-support.js';

const order: OrderRequest = { orderId: 'o1', customerId: 'c', items: [{ sku: 's', qty: 1 }], amountCents: 100 };

/** Ports whose charge fails `failures` times, then succeeds; release never answers. */
function flakyPorts(failures: number): { ports: WorkflowPorts; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    ports: {
      reserve: async () => ({ ok: true }),
      charge: async () => {
        calls++;
        if (calls <= failures) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return { ok: true };
      },
      release: () => new Promise<void>(() => {}),
      refund: async () => {},
      notify: async () => {},
    },
  };
}

describe('resilience policies (cockatiel)', () => {
  it('retries a failing hop with the same orderId until it succeeds', async () => {
    const { ports, calls } = flakyPorts(2);
    const events: string[] = [];
    const wrapped = withResilience(ports, DEFAULT_RESILIENCE, seededRandom(1), (hop, e) => events.push(`${hop}:${e}`));
    await expect(wrapped.charge(order)).resolves.toEqual({ ok: true });
    expect(calls()).toBe(3);
    expect(events).toEqual(['charge:retry', 'charge:retry']);
  });

  it('with no policy the first failure is the answer', async () => {
    const { ports, calls } = flakyPorts(1);
    const wrapped = withResilience(ports, NO_RESILIENCE, seededRandom(1));
    await expect(wrapped.charge(order)).rejects.toThrow('reset');
    expect(calls()).toBe(1);
  });

  describe('on a fake clock', () => {
    const clock = useFakeClock();

    it('times out an attempt that never answers, timeoutMs after it started', async () => {
      const policy = { ...DEFAULT_RESILIENCE, hops: { ...DEFAULT_RESILIENCE.hops, release: { timeoutMs: 50, retries: 0, backoff: null, breaker: null } } };
      const wrapped = withResilience(flakyPorts(0).ports, policy, seededRandom(1));
      let settled: unknown = 'pending';
      const released = wrapped.release('o1').catch((e: unknown) => (settled = e));
      await clock.advance(49);
      expect(settled).toBe('pending');
      await clock.advance(1);
      await released;
      expect(settled).toBeInstanceOf(TaskCancelledError);
    });
  });

  it('opens the breaker after consecutive failures, then refuses calls without trying them (CIRCUIT_OPEN, counted as short-circuited)', async () => {
    const hops = { ...DEFAULT_RESILIENCE.hops, charge: { timeoutMs: null, retries: 0, backoff: null, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 10_000 } } };
    const { ports, calls } = flakyPorts(100);
    const events: string[] = [];
    const wrapped = withResilience(ports, { name: 'default', hops }, seededRandom(1), (hop, event) => events.push(`${hop}:${event}`));
    for (let i = 0; i < 3; i++) await expect(wrapped.charge(order)).rejects.toThrow('reset');
    const refused = await wrapped.charge(order).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ code: 'CIRCUIT_OPEN', hop: 'charge', message: 'charge: the circuit breaker is open; the call was not tried' });
    expect(calls()).toBe(3);
    expect(events).toEqual(['charge:breaker-open', 'charge:short-circuited']);
  });

  it('describes every hop of a policy for the report', () => {
    const lines = describePolicy(DEFAULT_RESILIENCE);
    expect(lines.map((l) => l.split(':')[0] as Hop)).toEqual(['reserve', 'charge', 'release', 'refund', 'notify']);
    expect(lines[1]).toBe('charge: timeout 1000 ms; 2 retries, backoff 20–200 ms with jitter; breaker opens after 10 failures, half-open after 500 ms');
  });
});
