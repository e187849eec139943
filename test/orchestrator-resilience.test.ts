/** --resilience reaches the orchestrated saga: its own retry policy under default, one attempt each under none. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { patternCards } from '../src/bench/runner.js';
import { MemoryEventStore } from '../src/event-store/index.js';
import type { SagaParticipants } from '../src/patterns/saga-orchestration/definition.js';
import { sagaOrchestrationPattern } from '../src/patterns/saga-orchestration/index.js';
import { describeOrchestratorPolicy, Orchestrator, ORCHESTRATOR_POLICIES } from '../src/patterns/saga-orchestration/orchestrator.js';
import { isDrainable, isErrorInjectable, isHopErrorCounter, type RunningPattern } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { createServices } from '../src/workflow/services.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';
import { startPattern } from './support/pattern.js';
import { completedRun, resultsDoc } from './support/results.js';

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
let pattern: RunningPattern | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await pattern?.stop();
  pattern = undefined;
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

const ORDERS = 4;

/**
 * Start the saga-orchestration pattern under `resilience`, make payments fail every other
 * call it receives with UNAVAILABLE (the `flaky` scenario's injection at share 0.5: never
 * two calls in a row), and place ORDERS orders one after another, every one payable and in
 * stock. Each order's first charge meets a failure or follows one, so at least ORDERS - 1
 * of the charges fail once whatever the injection's seeded phase.
 */
async function placeUnderFlakyPayments(resilience: 'none' | 'default') {
  const started = await startPattern(sagaOrchestrationPattern, { resilience }, undefined, 42, undefined, { outOfStockShare: 0, declineShare: 0 });
  const p = (pattern = started.running);
  if (!isErrorInjectable(p) || !isHopErrorCounter(p) || !isDrainable(p)) throw new Error('the orchestrated saga injects errors, counts hop errors and drains');
  await p.injectErrors('payments', 0.5);
  const outcomes: OrderOutcome[] = [];
  for (let i = 0; i < ORDERS; i++) outcomes.push(await p.placeOrder(started.generator.next()));
  await p.drain(5000);
  const hopErrors = await p.hopErrors();
  return { statuses: outcomes.map((o) => (o.reason ? `${o.status}:${o.reason}` : o.status)), chargeFailures: hopErrors['charge:UNAVAILABLE'] ?? 0 };
}

describe('--resilience through the saga-orchestration pattern (over gRPC, the option as the runner passes it)', () => {
  it('default: every charge that failed once is retried by the orchestrator, and every order confirms', async () => {
    const r = await placeUnderFlakyPayments('default');
    expect(r.chargeFailures).toBeGreaterThanOrEqual(ORDERS - 1);
    expect(r.statuses).toEqual(Array<string>(ORDERS).fill('CONFIRMED'));
  }, 30_000);

  it('none: the same failures are not retried: each failed charge cancels its order with downstream_error', async () => {
    const r = await placeUnderFlakyPayments('none');
    expect(r.chargeFailures).toBeGreaterThanOrEqual(ORDERS - 1);
    expect(r.statuses.filter((s) => s === 'CANCELLED:downstream_error')).toHaveLength(r.chargeFailures);
    expect(r.statuses.filter((s) => s === 'CONFIRMED')).toHaveLength(ORDERS - r.chargeFailures);
  }, 30_000);

  it("report.md prints the orchestrator's own policy lines under the run's --resilience", () => {
    const expected = {
      default: [
        'saga-orchestration has a retry policy of its own; under `--resilience default`:',
        '',
        '- forward steps (charge, reserve): up to 3 attempts, backoff 10–500 ms with jitter; each attempt bounded by the gRPC deadline of 2000 ms',
        '- compensations (refund, release) and steps after the pivot (notify): up to 60 attempts, backoff 10–500 ms with jitter',
      ],
      none: [
        'saga-orchestration has a retry policy of its own; under `--resilience none`:',
        '',
        '- forward steps (charge, reserve): tried once; each attempt bounded by the gRPC deadline of 2000 ms',
        '- compensations (refund, release) and steps after the pivot (notify): tried once',
      ],
    };
    for (const resilience of ['default', 'none'] as const) {
      const doc = resultsDoc([completedRun({ pattern: 'saga-orchestration' })], { resilience });
      const md = renderMarkdown({ ...doc, patterns: patternCards(doc.config, [sagaOrchestrationPattern]) });
      // The section holds only the orchestrator's policy: saga-orchestration has no wrapped synchronous hops.
      const section = md.slice(md.indexOf('## Resilience policies\n'), md.indexOf('## Definitions'));
      expect(section).toBe(['## Resilience policies', '', ...expected[resilience], '', ''].join('\n'));
    }
  });
});
