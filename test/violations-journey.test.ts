import { describe, expect, it } from 'vitest';
import { PlacedLog } from '../src/bench/placed.js';
import { buildJourneys, explainViolations } from '../src/bench/violations.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { createServices, snapshotServices } from '../src/workflow/services.js';
import type { OrderRequest } from '../src/workflow/types.js';

/** A clock the test moves by hand, ms. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, at: (ms: number) => (t = start + ms) };
}

const order = (orderId: string): OrderRequest => ({ orderId, customerId: 'c1', items: [{ sku: 'a', qty: 2 }], amountCents: 500 });

/**
 * o1: placed at 0, charged at 12, the client's call fails at 30 (UNAVAILABLE), cancelled
 * at 2,010 without a refund — a leaked charge. o2: placed at 1, charged at 3, reserved at
 * 5, confirmed and notified at 7, answered at 8.
 */
function leakedChargeRun() {
  const clock = manualClock();
  const services = createServices({ stock: { a: 10 }, balances: { c1: 10_000 } }, clock.now);
  const log = new PlacedLog(0);
  clock.at(0);
  const i1 = log.add(order('o1'), clock.now());
  services.orders.create(order('o1'));
  clock.at(1);
  const i2 = log.add(order('o2'), clock.now());
  services.orders.create(order('o2'));
  clock.at(3);
  services.payments.charge('o2', 'c1', 500);
  services.orders.advance('o2', 'CHARGED');
  clock.at(5);
  services.inventory.reserve('o2', order('o2').items);
  services.orders.advance('o2', 'RESERVED');
  clock.at(7);
  services.orders.finish('o2', 'CONFIRMED');
  services.notifications.notify('o2', 'CONFIRMED');
  clock.at(8);
  log.accept(i2);
  log.settle(i2, { orderId: 'o2', status: 'CONFIRMED' }, clock.now());
  clock.at(12);
  services.payments.charge('o1', 'c1', 500);
  services.orders.advance('o1', 'CHARGED');
  clock.at(30);
  log.fail(i1, Object.assign(new Error('14 UNAVAILABLE: down'), { code: 'UNAVAILABLE' }), clock.now());
  clock.at(2010);
  services.orders.finish('o1', 'CANCELLED', 'downstream_error');
  return { log, snapshot: snapshotServices(services) };
}

describe('journeys of broken invariants', () => {
  it("puts an order's client events and every service effect in time order, ms from placement", () => {
    const { log, snapshot } = leakedChargeRun();
    const journeys = buildJourneys(['o2'], log.records(['o2']), snapshot);
    expect(journeys.get('o2')?.map((e) => [e.ms, e.service, e.what])).toEqual([
      [0, 'client', 'placed'],
      [0, 'orders', 'PENDING'],
      [2, 'payments', 'charge 500 cents'],
      [2, 'orders', 'CHARGED'],
      [4, 'inventory', 'reserve 2 × a'],
      [4, 'orders', 'RESERVED'],
      [6, 'orders', 'CONFIRMED'],
      [6, 'notifications', 'notified CONFIRMED'],
      [7, 'client', 'answered CONFIRMED'],
    ]);
  });

  it('explains a leaked charge: the offender, its count, and a journey without a refund', () => {
    const { log, snapshot } = leakedChargeRun();
    const checked = checkInvariants({ placed: log.orders(), accepted: log.acceptedIds(), snapshot });
    const violations = explainViolations(checked, log.records(['o1']), snapshot);
    expect(violations.map((v) => [v.invariant, v.count, v.orders.map((o) => o.orderId)])).toEqual([['leakedCharges', 1, ['o1']]]);
    expect(violations[0]?.orders[0]?.journey).toEqual([
      { ms: 0, service: 'client', event: 'placed', what: 'placed' },
      { ms: 0, service: 'orders', event: 'status', what: 'PENDING', status: 'PENDING' },
      { ms: 12, service: 'payments', event: 'charged', what: 'charge 500 cents', amountCents: 500 },
      { ms: 12, service: 'orders', event: 'status', what: 'CHARGED', status: 'CHARGED' },
      { ms: 30, service: 'client', event: 'errored', what: 'error UNAVAILABLE', code: 'UNAVAILABLE' },
      { ms: 2010, service: 'orders', event: 'status', what: 'CANCELLED (downstream_error)', status: 'CANCELLED', reason: 'downstream_error' },
    ]);
  });

  it('shows a declined charge, a release and an order with no answer by the drain deadline', () => {
    const clock = manualClock();
    const services = createServices({ stock: { a: 10 }, balances: { c1: 100 } }, clock.now);
    const log = new PlacedLog(0);
    clock.at(0);
    log.add(order('o3'), clock.now());
    clock.at(2);
    services.inventory.reserve('o3', order('o3').items);
    clock.at(4);
    services.payments.charge('o3', 'c1', 500);
    clock.at(6);
    services.inventory.release('o3');
    clock.at(50);
    log.expire(clock.now());
    const journey = buildJourneys(['o3'], log.records(['o3']), snapshotServices(services)).get('o3');
    expect(journey?.map((e) => [e.ms, e.service, e.event, e.what])).toEqual([
      [0, 'client', 'placed', 'placed'],
      [2, 'inventory', 'reserved', 'reserve 2 × a'],
      [4, 'payments', 'declined', 'charge declined'],
      [6, 'inventory', 'released', 'release 2 × a'],
      [50, 'client', 'no-answer', 'no answer by the drain deadline'],
    ]);
  });

  it('measures from the first effect for an order the client never placed', () => {
    const clock = manualClock();
    const services = createServices({ stock: { a: 10 }, balances: { c1: 10_000 } }, clock.now);
    clock.at(100);
    services.payments.charge('ghost', 'c1', 500);
    clock.at(103);
    services.payments.refund('ghost');
    const journey = buildJourneys(['ghost'], [], snapshotServices(services)).get('ghost');
    expect(journey?.map((e) => [e.ms, e.what])).toEqual([
      [0, 'charge 500 cents'],
      [3, 'refund 500 cents'],
    ]);
  });

  it('lists SKUs, not orders, for stock that was not conserved', () => {
    const { log, snapshot } = leakedChargeRun();
    const broken = { ...snapshot, inventory: { ...snapshot.inventory, available: { a: 7 } } };
    const checked = checkInvariants({ placed: log.orders(), accepted: log.acceptedIds(), snapshot: broken });
    const violations = explainViolations(checked, log.records(['o1']), broken);
    expect(violations.map((v) => [v.invariant, v.orders.length, v.skus])).toEqual([
      ['leakedCharges', 1, undefined],
      ['stockNotConserved', 0, ['a']],
    ]);
  });
});
