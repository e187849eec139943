import type { NewEvent, RecordedEvent } from '../../event-store/index.js';
import type { OrderItem } from '../../workflow/types.js';
import type { AggregateTypes } from './aggregates.js';
import { ORDER_EVENTS, STOCK_EVENTS, dataOf, orderStream, stockStream, type OrderTerminalData, type PaymentChargedData, type StockSettledData } from './events.js';
import { OrderAggregate, orderAt } from './order-aggregate.js';
import { HANDLED, type ProcessorHandler } from './processor.js';
import type { Repository } from './repository.js';
import { StockAggregate, type StockState } from './stock-aggregate.js';

/** The events inventory does work for (the others it notes, or ignores). */
export const INVENTORY_WORK: ReadonlySet<string> = new Set([ORDER_EVENTS.paymentCharged]);

/** Redeliveries the inventory absorbed (a reserve or release already done). */
export interface DuplicateCounter {
  duplicates: number;
}

/**
 * Inventory, as a processor of the log. On PaymentCharged it reserves every line on its
 * stock item stream (in SKU order, so two orders never wait on each other in opposite
 * orders), all or nothing: a line short of stock releases the lines already held. Then it
 * records the answer on the order (reserved confirms it; rejected asks payments for the
 * refund). Every step is idempotent by orderId, so a redelivered event changes nothing.
 *
 * On OrderConfirmed it notes the order as settleable on each of its items; the next
 * append to that item carries a StockItemsSettled event in the same atomic append (no
 * extra round trip), and the item forgets the order's hold. Safe because a redelivered
 * OrderCreated of a confirmed order is recognised on the order first. The note is kept in
 * memory: after a crash some holds stay remembered, which costs state size, not correctness.
 */
export function inventoryHandler(repo: Repository, types: AggregateTypes, counter: DuplicateCounter): ProcessorHandler {
  const settleable = new Map<string, Set<string>>();
  /** `events` plus the settle event for the item, if it has any to settle; forgets what it settled once appended. */
  const withSettle = (sku: string, state: StockState, events: NewEvent[]): NewEvent[] => {
    const pending = settleable.get(sku);
    if (events.length === 0 || pending === undefined || pending.size === 0) return events;
    const settle = StockAggregate.settle(state, pending);
    return settle === undefined ? events : [...events, settle];
  };
  const settled = (sku: string, events: readonly NewEvent[]): void => {
    const last = events[events.length - 1];
    if (last?.type !== STOCK_EVENTS.settled) return;
    const pending = settleable.get(sku);
    for (const orderId of (last.data as unknown as StockSettledData).orderIds) pending?.delete(orderId);
  };
  /**
   * A first delivery decides on the order as the event left it (`orderAt`: no read). A
   * redelivery or a retry reads the order first: its stock may be decided already, and its
   * items settled since, so reserving again would hold them twice.
   */
  const reserve = async (event: RecordedEvent, alive: () => boolean, first: boolean): Promise<void> => {
    const order = dataOf<PaymentChargedData>(event);
    const known = first ? orderAt(event) : undefined;
    const current = known ?? (await repo.load(types.order, orderStream(order.orderId)));
    if (current.state?.stock !== undefined) {
      counter.duplicates++; // decided before a crash: nothing to redo
      return;
    }
    const lines = sortedBySku(order.items);
    let ok = true;
    for (const line of lines) {
      const held = await repo.execute(
        types.stock,
        stockStream(line.sku),
        (s) => {
          const d = StockAggregate.reserve(s, order.orderId, line.qty);
          if (d.duplicate) counter.duplicates++;
          const events = withSettle(line.sku, s, d.events);
          return { events, result: { ok: d.ok, events } };
        },
        alive,
      );
      settled(line.sku, held.events);
      if (!held.ok) {
        ok = false;
        break;
      }
    }
    if (!ok) await release(order.orderId, lines, alive);
    await repo.execute(types.order, orderStream(order.orderId), (s) => ({ events: OrderAggregate.recordStock(s, ok), result: undefined }), alive, current);
  };

  const release = async (orderId: string, lines: readonly OrderItem[], alive: () => boolean): Promise<void> => {
    for (const line of lines) {
      const events = await repo.execute(
        types.stock,
        stockStream(line.sku),
        (s) => {
          const appended = withSettle(line.sku, s, StockAggregate.release(s, orderId).events);
          return { events: appended, result: appended };
        },
        alive,
      );
      settled(line.sku, events);
    }
  };

  return (event: RecordedEvent, alive, first) => {
    if (event.type === ORDER_EVENTS.paymentCharged) return reserve(event, alive, first);
    if (event.type === ORDER_EVENTS.confirmed) {
      const { orderId, items } = dataOf<OrderTerminalData>(event);
      for (const { sku } of items) {
        const pending = settleable.get(sku) ?? new Set<string>();
        settleable.set(sku, pending.add(orderId));
      }
      return HANDLED;
    }
    // A cancelled order holds no stock: declined before the reserve, or released by it when a line was short.
    return undefined;
  };
}

function sortedBySku(items: readonly OrderItem[]): OrderItem[] {
  return [...items].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}
