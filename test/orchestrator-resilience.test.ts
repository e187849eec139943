/** --resilience reaches the orchestrated saga: its own retry policy under default, one attempt each under none. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventStore } from '../src/event-store/index.js';
import type { SagaParticipants } from '../src/patterns/saga-orchestration/definition.js';
import { describeOrchestratorPolicy, Orchestrator, ORCHESTRATOR_POLICIES } from '../src/patterns/saga-orchestration/orchestrator.js';
import { seededRandom } from '../src/random.js';
import { createServices } from '../src/workflow/services.js';
import type { OrderRequest } from '../src/workflow/types.js';

const order: OrderRequest = { orderId: 'o1', customerId: 'rich', items: [{ sku: 'a', qty: 1 }], amountCents: 100 };

/** Participants whose charge fails the first time it is called, and a log of every call. */
function participantsFailingChargeOnce() {
  const s = createServices({ stock: { a: 10 }, balances: { rich: 1000 } });
  const calls: string[] = [];
  let chargeFailures = 1;
  const p: SagaParticipants = {
    charge: async (o) => {
      calls.push('charge');
      if (chargeFailures-- > 0) throw new Error('payments unavailable');
      return s.payments.charge(o.orderId, o.customerId, o.amountCents);
    },
    refund: async (id) => void (calls.push('refund'), s.payments.refund(id)),
    reserve: async (o) => (calls.push('reserve'), s.inventory.reserve(o.orderId, o.items)),
    release: async (id) => void (calls.push('release'), s.inventory.release(id)),
    confirm: async (id) => void (calls.push('confirm'), s.orders.finish(id, 'CONFIRMED')),
    cancel: async (id, reason) => void (calls.push(`cancel:${reason}`), s.orders.finish(id, 'CANCELLED', reason)),
    notify: async (id, status) => (calls.push(`notify:${status}`), s.notifications.notify(id, status)),
  };
  s.orders.create(order);
  return { s, p, calls };
}

let running: Orchestrator | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function settle(o: Orchestrator): Promise<void> {
  while (!o.idle) await sleep(2);
}

describe('the orchestrator under --resilience', () => {
  it('default: a charge that fails once is tried again, and the saga confirms', async () => {
    const { s, p, calls } = participantsFailingChargeOnce();
    running = new Orchestrator(new MemoryEventStore(), p, seededRandom(1), { ...ORCHESTRATOR_POLICIES.default, backoff: { initialMs: 1, maxMs: 2 } });
    await running.start(order);
    await settle(running);
    expect(calls).toEqual(['charge', 'charge', 'reserve', 'confirm', 'notify:CONFIRMED']);
    expect(s.orders.outcome('o1')).toEqual({ orderId: 'o1', status: 'CONFIRMED' });
  });

  it('none: the same failure is not retried: the saga compensates what may have happened and cancels with downstream_error', async () => {
    const { s, p, calls } = participantsFailingChargeOnce();
    running = new Orchestrator(new MemoryEventStore(), p, seededRandom(1), ORCHESTRATOR_POLICIES.none);
    await running.start(order);
    await settle(running);
    expect(calls).toEqual(['charge', 'refund', 'cancel:downstream_error', 'notify:CANCELLED']);
    expect(s.orders.outcome('o1')).toEqual({ orderId: 'o1', status: 'CANCELLED', reason: 'downstream_error' });
  });

  it('says its policy in words for the report, per --resilience', () => {
    expect(describeOrchestratorPolicy(ORCHESTRATOR_POLICIES.default, 2000)).toEqual([
      'forward steps (charge, reserve): up to 3 attempts, backoff 10–500 ms with jitter; each attempt bounded by the gRPC deadline of 2000 ms',
      'compensations (refund, release) and steps after the pivot (notify): up to 60 attempts, backoff 10–500 ms with jitter',
    ]);
    expect(describeOrchestratorPolicy(ORCHESTRATOR_POLICIES.none, 2000)).toEqual([
      'forward steps (charge, reserve): tried once; each attempt bounded by the gRPC deadline of 2000 ms',
      'compensations (refund, release) and steps after the pivot (notify): tried once',
    ]);
  });
});
