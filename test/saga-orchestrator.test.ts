import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_STORES } from './support/stores.js';
import { openEventStore } from '../src/event-store/index.js';
import type { EventStore } from '../src/event-store/types.js';
import type { SagaParticipants } from '../src/patterns/saga-orchestration/definition.js';
import { Orchestrator } from '../src/patterns/saga-orchestration/orchestrator.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { createServices, snapshotServices, type WorkflowServices } from '../src/workflow/services.js';
import type { OrderRequest } from '../src/workflow/types.js';

const STORES = EVENT_STORES;
const fast = { stepAttempts: 3, mustLandAttempts: 20, backoff: { initialMs: 1, maxMs: 5 } };

/** In-process participants that record every call and fail where told to. */
function participants(
  s: WorkflowServices,
  opts: { failing?: Set<string>; failTimes?: Map<string, number>; delayMs?: number; afterCall?: (name: string, n: number) => void } = {},
) {
  const calls: string[] = [];
  const call = async <T>(name: string, orderId: string, fn: () => T): Promise<T> => {
    if (opts.delayMs) await sleep(opts.delayMs);
    calls.push(`${name}:${orderId}`);
    const left = opts.failTimes?.get(`${name}:${orderId}`) ?? 0;
    if (left > 0) {
      opts.failTimes?.set(`${name}:${orderId}`, left - 1);
      throw new Error(`${name} unavailable`);
    }
    if (opts.failing?.has(`${name}:${orderId}`)) throw new Error(`${name} unavailable`);
    const result = fn();
    opts.afterCall?.(name, calls.filter((c) => c.startsWith(`${name}:`)).length);
    return result;
  };
  const p: SagaParticipants = {
    charge: (o) => call('charge', o.orderId, () => s.payments.charge(o.orderId, o.customerId, o.amountCents)),
    refund: (id) => call('refund', id, () => void s.payments.refund(id)),
    reserve: (o) => call('reserve', o.orderId, () => s.inventory.reserve(o.orderId, o.items)),
    release: (id) => call('release', id, () => void s.inventory.release(id)),
    confirm: (id) => call('confirm', id, () => void s.orders.finish(id, 'CONFIRMED')),
    cancel: (id, reason) => call('cancel', id, () => void s.orders.finish(id, 'CANCELLED', reason)),
    notify: (id, status) => call('notify', id, () => s.notifications.notify(id, status)),
  };
  return { p, calls };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('timed out waiting');
    await sleep(5);
  }
}

let store: EventStore | undefined;
let orchestrator: Orchestrator | undefined;
afterEach(async () => {
  await orchestrator?.stop();
  await store?.close();
  orchestrator = undefined;
  store = undefined;
});

const o = (orderId: string, customerId: string, sku = 'apple'): OrderRequest => ({ orderId, customerId, items: [{ sku, qty: 1 }], amountCents: 500 });

describe.each(STORES)('saga orchestrator with the saga log in %s', (spec) => {
  it('injects a failure at every step: exactly the right compensations, once each, newest first', async () => {
    store = await openEventStore(spec);
    const s = createServices({ stock: { apple: 10, gone: 0 }, balances: { rich: 100_000, broke: 1 } });
    const failTimes = new Map([['notify:notify-flaky', 2]]);
    const { p, calls } = participants(s, { failing: new Set(['confirm:fail-pivot', 'charge:fail-charge-tech']), failTimes });
    orchestrator = new Orchestrator(store, p, seededRandom(1), fast);
    const orders = [
      o('ok', 'rich'),
      o('fail-charge', 'broke'), // step 1 refused: nothing to undo
      o('fail-reserve', 'rich', 'gone'), // step 2 refused: undo step 1
      o('fail-pivot', 'rich'), // step 3 fails technically: undo 2, then 1
      o('notify-flaky', 'rich'), // after the pivot: retried until it lands
      o('fail-charge-tech', 'rich'), // step 1 fails technically: it may have happened, so undo it
    ];
    for (const order of orders) {
      s.orders.create(order);
      await orchestrator.start(order);
    }
    await until(() => orchestrator!.idle);
    const of = (id: string) => calls.filter((c) => c.endsWith(`:${id}`)).map((c) => c.split(':')[0]);
    expect(of('ok')).toEqual(['charge', 'reserve', 'confirm', 'notify']);
    expect(of('fail-charge')).toEqual(['charge', 'cancel', 'notify']);
    expect(of('fail-reserve')).toEqual(['charge', 'reserve', 'refund', 'cancel', 'notify']);
    expect(of('fail-pivot')).toEqual(['charge', 'reserve', 'confirm', 'confirm', 'confirm', 'release', 'refund', 'cancel', 'notify']);
    expect(of('notify-flaky')).toEqual(['charge', 'reserve', 'confirm', 'notify', 'notify', 'notify']);
    expect(of('fail-charge-tech')).toEqual(['charge', 'charge', 'charge', 'refund', 'cancel', 'notify']);
    const status = (id: string) => s.orders.get(id);
    expect(status('ok')?.status).toBe('CONFIRMED');
    expect(status('notify-flaky')?.status).toBe('CONFIRMED');
    expect(status('fail-charge')).toMatchObject({ status: 'CANCELLED', reason: 'payment_declined' });
    expect(status('fail-reserve')).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    expect(status('fail-pivot')).toMatchObject({ status: 'CANCELLED', reason: 'downstream_error' });
    expect(status('fail-charge-tech')).toMatchObject({ status: 'CANCELLED', reason: 'downstream_error' });
    const report = checkInvariants({ placed: orders, accepted: new Set(orders.map((x) => x.orderId)), snapshot: snapshotServices(s) });
    expect(report).toMatchObject({ ok: true, stuck: 0, leakedReservations: 0, leakedCharges: 0, doubleCharged: 0 });
    expect(orchestrator.compensationLatency().count).toBe(3);
  });

  it('killed mid-run and restarted: every saga ends terminal, redoes only the calls it had not logged, none compensated twice', async () => {
    store = await openEventStore(spec);
    const gen = new OrderGenerator(seededRandom(5), { outOfStockShare: 0.2, declineShare: 0.2 });
    const s = createServices(gen.world());
    // The orchestrator dies at the worst moment: right after the 20th reservation took
    // effect, before the orchestrator could log it.
    const { p, calls } = participants(s, { delayMs: 1, afterCall: (name, n) => n === 20 && name === 'reserve' && orchestrator?.crash() });
    orchestrator = new Orchestrator(store, p, seededRandom(2), fast);
    const placed = Array.from({ length: 120 }, () => gen.next());
    const started = placed.map(async (order) => {
      s.orders.create(order);
      await orchestrator!.start(order);
    });
    await Promise.all(started);
    await until(() => calls.filter((c) => c.startsWith('reserve:')).length >= 20);
    await sleep(20); // the dead executions' in-flight calls land
    const resumed = await orchestrator.recover();
    expect(resumed).toBeGreaterThan(0);
    await until(() => orchestrator!.idle && placed.every((x) => s.orders.get(x.orderId)?.status === 'CONFIRMED' || s.orders.get(x.orderId)?.status === 'CANCELLED'));
    const snap = snapshotServices(s);
    const report = checkInvariants({ placed, accepted: new Set(placed.map((x) => x.orderId)), snapshot: snap });
    expect(report).toMatchObject({ ok: true, stuck: 0, doubleCharged: 0, leakedCharges: 0, leakedReservations: 0 });
    const refunds = snap.payments.ledger.filter((e) => e.kind === 'refund').map((e) => e.orderId);
    expect(new Set(refunds).size).toBe(refunds.length);

    // Every saga made the calls of its outcome's path, in order. A saga the crash caught ran
    // again, on recovery, everything since its last saga-log record: its calls are the path
    // with one stretch of it (done but not logged) repeated right after itself.
    const PATHS = {
      CONFIRMED: ['charge', 'reserve', 'confirm', 'notify'],
      payment_declined: ['charge', 'cancel', 'notify'],
      out_of_stock: ['charge', 'reserve', 'refund', 'cancel', 'notify'],
    } as const;
    const pathOf = (orderId: string): readonly string[] => {
      const record = s.orders.get(orderId);
      if (record?.status === 'CONFIRMED') return PATHS.CONFIRMED;
      if (record?.reason === 'payment_declined' || record?.reason === 'out_of_stock') return PATHS[record.reason];
      throw new Error(`order ${orderId} ended ${String(record?.status)}/${String(record?.reason)}, which no path of this test has`);
    };
    const callsOf = new Map<string, string[]>(placed.map((x) => [x.orderId, []]));
    for (const c of calls) {
      const at = c.indexOf(':');
      callsOf.get(c.slice(at + 1))?.push(c.slice(0, at));
    }
    expect([...callsOf.values()].reduce((n, list) => n + list.length, 0)).toBe(calls.length);
    /** The path's first `k` calls, then the path again from call `j` ≤ k (j = k: the path itself). */
    const forms = (path: readonly string[]): Set<string> => {
      const all = new Set<string>();
      for (let k = 0; k <= path.length; k++) for (let j = 0; j <= k; j++) all.add([...path.slice(0, k), ...path.slice(j)].join());
      return all;
    };
    const strays = placed.filter((x) => !forms(pathOf(x.orderId)).has((callsOf.get(x.orderId) ?? []).join()));
    expect(strays.map((x) => [x.orderId, callsOf.get(x.orderId)?.join()])).toEqual([]);
    // The saga whose reserve was the 20th: charge logged, reserve done but not logged, so run again on recovery.
    const interrupted = calls.filter((c) => c.startsWith('reserve:'))[19]?.slice('reserve:'.length) ?? '';
    expect(callsOf.get(interrupted)).toEqual(pathOf(interrupted).flatMap((name) => (name === 'reserve' ? ['reserve', 'reserve'] : [name])));
    // Each repeated call was absorbed by the participant's idempotency, and only resumed sagas repeated one.
    const repeats = calls.length - placed.reduce((n, x) => n + pathOf(x.orderId).length, 0);
    expect(repeats).toBeGreaterThan(0);
    expect(report.duplicatesAbsorbed).toBe(repeats);
    expect(placed.filter((x) => (callsOf.get(x.orderId)?.length ?? 0) > pathOf(x.orderId).length).length).toBeLessThanOrEqual(resumed);
  });
});
