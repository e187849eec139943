import type { World } from '../../workflow/services.js';
import { applyAccountEvent, accountFromJson, accountToJson, initialAccount, type AccountState } from './account-aggregate.js';
import { ACCOUNT_STREAM_PREFIX, STOCK_STREAM_PREFIX } from './events.js';
import { applyOrderEvent, orderFromJson, orderToJson, type MaybeOrder } from './order-aggregate.js';
import type { AggregateType } from './repository.js';
import { applyStockEvent, initialStock, stockFromJson, stockToJson, type StockState } from './stock-aggregate.js';

/** The three aggregate types of the pattern. Initial stock and balances come from the run's world (configuration, not events). */
export interface AggregateTypes {
  readonly order: AggregateType<MaybeOrder>;
  readonly stock: AggregateType<StockState>;
  readonly account: AggregateType<AccountState>;
}

export function aggregateTypes(world: World): AggregateTypes {
  return {
    // An order stream has at most five events: folding it is cheaper than fetching a snapshot.
    order: { name: 'order', snapshots: false, initial: () => null, apply: applyOrderEvent, toJson: orderToJson, fromJson: orderFromJson },
    // A SKU's stock and a customer's account are written by their processor alone: its repository keeps their state.
    stock: {
      name: 'stock',
      kept: true,
      initial: (stream) => initialStock(world.stock[stream.slice(STOCK_STREAM_PREFIX.length)] ?? 0),
      apply: applyStockEvent,
      toJson: stockToJson,
      fromJson: stockFromJson,
    },
    account: {
      name: 'account',
      kept: true,
      initial: (stream) => initialAccount(world.balances[stream.slice(ACCOUNT_STREAM_PREFIX.length)] ?? 0),
      apply: applyAccountEvent,
      toJson: accountToJson,
      fromJson: accountFromJson,
    },
  };
}
