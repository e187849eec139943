import type { EventStore } from '../../event-store/index.js';
import { orderStream } from './events.js';
import { applyOrderEvent, type OrderState } from './order-aggregate.js';

/** An order as it stood at some time: its state and the stream version it reflects. */
export interface OrderAt {
  readonly state: OrderState;
  readonly version: number;
}

/**
 * Temporal query: the order as it stood at `time` (ms since the Unix epoch, compared with
 * each event's `recordedAt`, inclusive), folded from its stream. undefined if the order
 * did not exist yet. Stream versions are recorded in time order, so the fold stops at the
 * first later event.
 */
export async function orderStateAt(store: EventStore, orderId: string, time: number): Promise<OrderAt | undefined> {
  let state: OrderState | null = null;
  let version = 0;
  for (const event of await store.readStream(orderStream(orderId))) {
    if (event.recordedAt > time) break;
    state = applyOrderEvent(state, event);
    version = event.version;
  }
  return state === null ? undefined : { state, version };
}
