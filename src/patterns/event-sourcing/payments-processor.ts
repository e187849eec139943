import type { RecordedEvent } from '../../event-store/index.js';
import { AccountAggregate, type AccountState, type ChargeDecision } from './account-aggregate.js';
import type { AggregateTypes } from './aggregates.js';
import { ORDER_EVENTS, accountStream, dataOf, orderStream, type OrderCreatedData, type StockRejectedData } from './events.js';
import type { DuplicateCounter } from './inventory-processor.js';
import { OrderAggregate, orderAt } from './order-aggregate.js';
import type { ProcessorHandler } from './processor.js';
import type { Repository } from './repository.js';

/** The events payments does work for. */
export const PAYMENTS_WORK: ReadonlySet<string> = new Set([ORDER_EVENTS.created, ORDER_EVENTS.stockRejected]);

/**
 * Payments, as a processor of the log. On OrderCreated it charges the customer's account
 * stream (idempotent by orderId: the account remembers every decision) and records the
 * answer on the order (a declined charge cancels it in the same append). On StockRejected
 * — the compensation — it refunds the charge and records the refund, which cancels the order.
 */
export function paymentsHandler(repo: Repository, types: AggregateTypes, counter: DuplicateCounter): ProcessorHandler {
  const onAccount = (customerId: string, decide: (s: AccountState) => ChargeDecision, alive: () => boolean): Promise<boolean> =>
    repo.execute(
      types.account,
      accountStream(customerId),
      (s) => {
        const decision = decide(s);
        if (decision.duplicate) counter.duplicates++;
        return { events: decision.events, result: decision.ok };
      },
      alive,
    );
  // The order is decided on as the event left it (orderAt), not read back: its expected version catches a stream that moved on.
  const charge = async (event: RecordedEvent, alive: () => boolean): Promise<void> => {
    const d = dataOf<OrderCreatedData>(event);
    const charged = await onAccount(d.customerId, (s) => AccountAggregate.charge(s, d.orderId, d.amountCents), alive);
    await repo.execute(types.order, orderStream(d.orderId), (s) => ({ events: OrderAggregate.recordPayment(s, charged), result: undefined }), alive, orderAt(event));
  };
  const refund = async (event: RecordedEvent, alive: () => boolean): Promise<void> => {
    const d = dataOf<StockRejectedData>(event);
    await onAccount(d.customerId, (s) => AccountAggregate.refund(s, d.orderId), alive);
    await repo.execute(types.order, orderStream(d.orderId), (s) => ({ events: OrderAggregate.recordRefund(s), result: undefined }), alive, orderAt(event));
  };
  return (event: RecordedEvent, alive) => {
    if (event.type === ORDER_EVENTS.created) return charge(event, alive);
    if (event.type === ORDER_EVENTS.stockRejected) return refund(event, alive);
    return undefined;
  };
}
