import type { RecordedEvent } from '../../event-store/index.js';
import { AccountAggregate } from './account-aggregate.js';
import type { AggregateTypes } from './aggregates.js';
import { ORDER_EVENTS, accountStream, dataOf, orderStream, type StockReservedData } from './events.js';
import type { DuplicateCounter } from './inventory-processor.js';
import { OrderAggregate } from './order-aggregate.js';
import type { ProcessorHandler } from './processor.js';
import type { Repository } from './repository.js';

/**
 * Payments, as a processor of the log: on StockReserved it charges the customer's
 * account stream (idempotent by orderId: the account remembers every decision) and
 * records the answer on the order, which confirms or cancels it in the same append.
 */
export function paymentsHandler(repo: Repository, types: AggregateTypes, counter: DuplicateCounter): ProcessorHandler {
  const charge = async (d: StockReservedData, alive: () => boolean): Promise<void> => {
    const charged = await repo.execute(
      types.account,
      accountStream(d.customerId),
      (s) => {
        const decision = AccountAggregate.charge(s, d.orderId, d.amountCents);
        if (decision.duplicate) counter.duplicates++;
        return { events: decision.events, result: decision.ok };
      },
      alive,
    );
    await repo.execute(types.order, orderStream(d.orderId), (s) => ({ events: OrderAggregate.recordPayment(s, charged), result: undefined }), alive);
  };
  return (event: RecordedEvent, alive) => (event.type === ORDER_EVENTS.stockReserved ? charge(dataOf<StockReservedData>(event), alive) : undefined);
}
