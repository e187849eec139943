import { describe, expect, it } from 'vitest';
import { compensationsOf } from '../src/bench/failure.js';
import { PlacedLog } from '../src/bench/placed.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import { checkInvariants } from '../src/workflow/invariants.js';
import { buffersOf, isPackedSnapshot, packSnapshot, unpackSnapshot, type PackedSnapshot } from '../src/workflow/packed-snapshot.js';
import { epochMs, type Clock } from '../src/workflow/clock.js';
import { createServices, packServices, snapshotServices, type SystemSnapshot, type WorkflowServices } from '../src/workflow/services.js';
import type { OrderRequest } from '../src/workflow/types.js';
import { directPorts, runOrderWorkflow } from '../src/workflow/workflow.js';

/** Every optional field present somewhere and absent somewhere else. */
const FULL: SystemSnapshot = {
  orders: {
    orders: [
      { orderId: 'o1', status: 'CONFIRMED', history: [{ status: 'PENDING', at: 1.5 }, { status: 'CONFIRMED', at: 2.25 }] },
      { orderId: 'o2', status: 'CANCELLED', reason: 'out_of_stock', history: [] },
      { orderId: 'o3', status: 'PENDING' },
      { orderId: 'o1', status: 'CANCELLED', reason: 'downstream_error' },
    ],
    duplicates: 2,
  },
  inventory: {
    initial: { a: 5, b: 1 },
    available: { a: 3, b: 0 },
    reservations: [
      { orderId: 'o1', items: [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 1 }], state: 'held', at: 10 },
      { orderId: 'o2', items: [{ sku: 'b', qty: 1 }], state: 'rejected' },
      { orderId: 'ghost', items: [], state: 'released', at: 11, releasedAt: 12.5 },
    ],
    duplicates: 1,
  },
  payments: {
    ledger: [
      { orderId: 'o1', customerId: 'c1', kind: 'charge', amountCents: 1999, at: 3 },
      { orderId: 'o2', customerId: 'c2', kind: 'charge', amountCents: 0.5 },
      { orderId: 'o2', customerId: 'c2', kind: 'refund', amountCents: 0.5, at: 4 },
    ],
    declined: ['o3', 'o4', 'o5'],
    declinedAt: [7, 8],
    duplicates: 3,
  },
  notifications: { sent: 2, duplicates: 4, log: [{ orderId: 'o1', status: 'CONFIRMED', at: 5 }, { orderId: 'o2', status: 'CANCELLED', at: 6 }] },
};

/** A capacity run's shape: no times anywhere, no notifications log. */
const BARE: SystemSnapshot = {
  orders: { orders: [{ orderId: 'x', status: 'CONFIRMED' }], duplicates: 0 },
  inventory: { initial: { a: 1 }, available: { a: 0 }, reservations: [{ orderId: 'x', items: [{ sku: 'a', qty: 1 }], state: 'held' }], duplicates: 0 },
  payments: { ledger: [{ orderId: 'x', customerId: 'c', kind: 'charge', amountCents: 10 }], declined: [], duplicates: 0 },
  notifications: { sent: 1, duplicates: 0 },
};

/** As it crosses a thread: a structured clone. */
const viaClone = (p: PackedSnapshot): PackedSnapshot => structuredClone(p);

async function realRun(clock: Clock = epochMs): Promise<{ placed: OrderRequest[]; snapshot: SystemSnapshot; services: WorkflowServices }> {
  const gen = new OrderGenerator(seededRandom(11));
  const services = createServices(gen.world(), clock);
  const ports = directPorts(services);
  const placed = Array.from({ length: 200 }, () => gen.next());
  await Promise.all(placed.map((o) => runOrderWorkflow(services.orders, ports, o)));
  services.inventory.release(placed[0]?.orderId ?? '');
  services.payments.refund(placed[0]?.orderId ?? '');
  // A release and a refund before their reserve and charge: tombstones.
  services.inventory.release('early');
  services.payments.refund('early');
  return { placed, snapshot: snapshotServices(services), services };
}

describe('packed snapshot', () => {
  it('keeps every field through packing, a structured clone and unpacking', () => {
    for (const s of [FULL, BARE]) {
      const packed = viaClone(packSnapshot(s));
      expect(isPackedSnapshot(packed)).toBe(true);
      expect(unpackSnapshot(packed)).toStrictEqual(s);
    }
  });

  it('moves to another thread with every column\'s buffer transferred', () => {
    for (const s of [FULL, BARE]) {
      const packed = packSnapshot(s);
      const buffers = buffersOf(packed);
      // Every typed array of the snapshot, found by walking it, has its buffer in the list.
      const found = new Set<ArrayBufferLike>();
      const walk = (v: unknown): void => {
        if (ArrayBuffer.isView(v)) found.add(v.buffer);
        else if (v && typeof v === 'object') Object.values(v).forEach(walk);
      };
      walk(packed);
      expect(new Set(buffers)).toEqual(found);
      const moved = structuredClone(packed, { transfer: buffers });
      expect(packed.orders.orderId.length).toBe(0); // detached: moved, not copied
      expect(unpackSnapshot(moved)).toStrictEqual(s);
    }
  });

  it('counts the same compensations (releases and refunds) packed as unpacked', () => {
    expect(compensationsOf(FULL)).toBe(2);
    expect(compensationsOf(packSnapshot(FULL))).toBe(2);
    expect(compensationsOf(packSnapshot(BARE))).toBe(0);
  });

  it('keeps each distinct string once', () => {
    const packed = packSnapshot(FULL);
    expect(new Set(packed.strings).size).toBe(packed.strings.length);
    expect(packed.strings.filter((s) => s === 'o1')).toHaveLength(1);
  });

  it('round-trips a real run of the services, with times', async () => {
    const { snapshot } = await realRun();
    expect(snapshot.orders.orders[0]?.history?.length).toBeGreaterThan(0);
    expect(unpackSnapshot(viaClone(packSnapshot(snapshot)))).toStrictEqual(snapshot);
  });

  it.each([
    ['with times', epochMs],
    ['without times (a capacity run)', null],
  ] as const)('packs the services straight from their state as their snapshot, %s', async (_, clock) => {
    const { snapshot, services } = await realRun(clock);
    expect(snapshot.payments.declined.length).toBeGreaterThan(0);
    expect(packServices(services)).toStrictEqual(packSnapshot(snapshot));
    expect(unpackSnapshot(structuredClone(packServices(services)))).toStrictEqual(snapshot);
  });

  it('unpacks only the wanted orders, declines still paired with their times', () => {
    const only = unpackSnapshot(packSnapshot(FULL), new Set(['o2', 'o4', 'o5']));
    expect(only.orders.orders.map((o) => o.orderId)).toEqual(['o2']);
    expect(only.inventory.reservations.map((r) => r.orderId)).toEqual(['o2']);
    expect(only.payments.ledger).toEqual(FULL.payments.ledger.slice(1));
    expect(only.payments.declined).toEqual(['o4', 'o5']);
    expect(only.payments.declinedAt).toEqual([8]);
    expect(only.notifications).toEqual({ sent: 2, duplicates: 4, log: [{ orderId: 'o2', status: 'CANCELLED', at: 6 }] });
  });

  it('gives the checker the same verdict, offenders included, packed or not', async () => {
    const { placed, snapshot } = await realRun();
    const ids = placed.map((o) => o.orderId);
    const [a, b, c] = ids;
    // Break several invariants at once: a lost order, a double charge, an unexpected effect, a leaked hold.
    const broken: SystemSnapshot = {
      ...snapshot,
      orders: { ...snapshot.orders, orders: snapshot.orders.orders.filter((o) => o.orderId !== a) },
      payments: { ...snapshot.payments, ledger: [...snapshot.payments.ledger, { orderId: b ?? '', customerId: 'c', kind: 'charge', amountCents: 1 }, { orderId: 'never', customerId: 'c', kind: 'charge', amountCents: 1 }] },
      inventory: { ...snapshot.inventory, reservations: [...snapshot.inventory.reservations, { orderId: c ?? '', items: [{ sku: 'sku-0', qty: 1 }], state: 'held' }] },
    };
    const input = { placed, accepted: new Set(ids) };
    const objects = checkInvariants({ ...input, snapshot: broken });
    expect(objects.ok).toBe(false);
    expect(objects.lost).toBe(1);
    expect(objects.unexpectedEffects).toBe(1);
    expect(objects.offenders).toMatchObject({ lost: [a], doubleCharged: [b], unexpectedEffects: ['never'], leakedReservations: [c], stockNotConserved: ['sku-0'] });
    expect(checkInvariants({ ...input, snapshot: viaClone(packSnapshot(broken)) })).toStrictEqual(objects);
  });

  it('reads the client\'s log as the runner hands it over (each order made as read, accepted ids looked up on demand) as it reads arrays', async () => {
    const { placed, snapshot } = await realRun();
    const log = new PlacedLog();
    // Every order placed; all but the first two accepted; the first never reached the system.
    placed.forEach((o, i) => {
      const index = log.add(o, i);
      if (i > 1) log.accept(index);
    });
    const broken = { ...snapshot, orders: { ...snapshot.orders, orders: snapshot.orders.orders.filter((o) => o.orderId !== placed[0]?.orderId && o.orderId !== placed[2]?.orderId) } };
    const packed = packSnapshot(broken);
    const fromArrays = checkInvariants({ placed: log.orders(), accepted: log.acceptedIds(), snapshot: packed });
    expect(fromArrays.lost).toBe(1);
    expect(checkInvariants({ placed: log.eachOrder(), accepted: log.acceptedLookup(), snapshot: packed })).toStrictEqual(fromArrays);
    // A one-shot iterator is read twice too.
    expect(checkInvariants({ placed: log.orders().values(), accepted: log.acceptedIds(), snapshot: packed })).toStrictEqual(fromArrays);
  });
});
