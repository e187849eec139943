import type { JsonObject, NewEvent, RecordedEvent } from '../../event-store/index.js';
import { STOCK_EVENTS, dataOf, type StockItemData, type StockSettledData } from './events.js';

/**
 * A stock item (one SKU): what is available and which orders hold how much. `held`
 * is the idempotency memory: a repeated reserve or release for an order changes nothing.
 * Once an order is confirmed its hold is settled (forgotten; the stock stays taken), so
 * the state — and its snapshots — hold only the orders in flight, not the stream's history.
 */
export interface StockState {
  available: number;
  held: Record<string, number>;
}

export const initialStock = (qty: number): StockState => ({ available: qty, held: {} });

/** Folds one event into `state`, in place (the loader owns the state it folds: folding a long stream stays linear). */
export function applyStockEvent(state: StockState, event: Pick<RecordedEvent, 'type' | 'data'>): StockState {
  if (event.type === STOCK_EVENTS.settled) {
    for (const orderId of dataOf<StockSettledData>(event).orderIds) delete state.held[orderId];
    return state;
  }
  const { orderId, qty } = dataOf<StockItemData>(event);
  if (event.type === STOCK_EVENTS.reserved) {
    state.available -= qty;
    state.held[orderId] = qty;
  } else if (event.type === STOCK_EVENTS.released && state.held[orderId] !== undefined) {
    state.available += qty;
    delete state.held[orderId];
  }
  return state;
}

export const stockToJson = (state: StockState): JsonObject => ({ available: state.available, held: state.held });
export const stockFromJson = (json: JsonObject): StockState => json as unknown as StockState;

/** What a reserve decided: the events to append and whether the order holds the stock. */
export interface StockDecision {
  readonly events: NewEvent[];
  readonly ok: boolean;
  /** Already decided before: a redelivery. */
  readonly duplicate: boolean;
}

export const StockAggregate = {
  reserve(state: StockState, orderId: string, qty: number): StockDecision {
    if (state.held[orderId] !== undefined) return { events: [], ok: true, duplicate: true };
    if (state.available < qty) return { events: [], ok: false, duplicate: false };
    return { events: [{ type: STOCK_EVENTS.reserved, data: { orderId, qty } }], ok: true, duplicate: false };
  },

  /**
   * The settle event for those of `orderIds` (confirmed orders) the item still holds, to
   * ride along with an append the item makes anyway; undefined if there is none.
   */
  settle(state: StockState, orderIds: Iterable<string>): NewEvent | undefined {
    const held: string[] = [];
    for (const orderId of orderIds) if (state.held[orderId] !== undefined) held.push(orderId);
    return held.length === 0 ? undefined : { type: STOCK_EVENTS.settled, data: { orderIds: held } };
  },

  release(state: StockState, orderId: string): StockDecision {
    const qty = state.held[orderId];
    if (qty === undefined) return { events: [], ok: false, duplicate: true };
    return { events: [{ type: STOCK_EVENTS.released, data: { orderId, qty } }], ok: true, duplicate: false };
  },
};
