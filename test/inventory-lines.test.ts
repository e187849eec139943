/** The inventory keeps a held reservation's lines in columns; what it answers and what its snapshot says are the items it was given. */
import { describe, expect, it } from 'vitest';
import { InventoryService } from '../src/workflow/inventory.js';
import { SnapshotPacker, unpackSnapshot } from '../src/workflow/packed-snapshot.js';

describe('inventory lines', () => {
  it('holds, rejects, releases and tombstones as the items say, and gives the items back in its snapshot', () => {
    const inv = new InventoryService({ a: 5, b: 1 }, null);
    expect(inv.reserve('o1', [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 1 }])).toEqual({ ok: true });
    expect(inv.reserve('o2', [{ sku: 'b', qty: 1 }])).toEqual({ ok: false, reason: 'out_of_stock' });
    expect(inv.reserve('o3', [{ sku: 'new', qty: 0 }])).toEqual({ ok: true });
    expect(inv.reserve('o4', [])).toEqual({ ok: true });
    expect(inv.reserve('o4', [{ sku: 'a', qty: 1 }])).toEqual({ ok: false, reason: 'out_of_stock' }); // a reserve of nothing holds nothing
    expect(inv.release('o5')).toBe(false); // a tombstone
    expect(inv.reserve('o5', [{ sku: 'a', qty: 1 }])).toEqual({ ok: false, reason: 'out_of_stock' });
    expect(inv.reserve('o1', [])).toEqual({ ok: true }); // a duplicate: the first answer
    expect(inv.snapshot()).toStrictEqual({
      initial: { a: 5, b: 1 },
      available: { a: 3, b: 0, new: 0 },
      reservations: [
        { orderId: 'o1', items: [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 1 }], state: 'held' },
        { orderId: 'o2', items: [{ sku: 'b', qty: 1 }], state: 'rejected' },
        { orderId: 'o3', items: [{ sku: 'new', qty: 0 }], state: 'held' },
      ],
      duplicates: 3,
    });
    expect(inv.release('o1')).toBe(true);
    expect(inv.release('o1')).toBe(false);
    const after = inv.snapshot();
    expect(after.available).toEqual({ a: 5, b: 1, new: 0 });
    expect(after.reservations[0]).toStrictEqual({ orderId: 'o1', items: [{ sku: 'a', qty: 2 }, { sku: 'b', qty: 1 }], state: 'released' });
    const packer = new SnapshotPacker();
    inv.packInto(packer);
    expect(unpackSnapshot(packer.build()).inventory).toStrictEqual(after);
  });

  it('keeps lines apart past its columns\' first size', () => {
    const inv = new InventoryService({ a: 10_000 }, null);
    for (let i = 0; i < 1500; i++) inv.reserve(`o${i}`, [{ sku: 'a', qty: 1 }, { sku: 'a', qty: 2 }]);
    for (let i = 0; i < 1500; i += 2) inv.release(`o${i}`);
    const s = inv.snapshot();
    expect(s.available).toEqual({ a: 10_000 - 750 * 3 });
    expect(s.reservations[1499]).toStrictEqual({ orderId: 'o1499', items: [{ sku: 'a', qty: 1 }, { sku: 'a', qty: 2 }], state: 'held' });
  });
});
