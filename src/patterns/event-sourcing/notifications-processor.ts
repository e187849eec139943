import type { RecordedEvent } from '../../event-store/index.js';
import type { NotificationsService } from '../../workflow/notifications.js';
import { ORDER_EVENTS, dataOf, type OrderTerminalData } from './events.js';
import { HANDLED, type ProcessorHandler } from './processor.js';

/** Notifications, as a processor of the log: one notification per terminal order (best effort, idempotent by orderId). */
export function notificationsHandler(notifications: NotificationsService): ProcessorHandler {
  return (event: RecordedEvent) => {
    if (event.type === ORDER_EVENTS.confirmed) notifications.notify(dataOf<OrderTerminalData>(event).orderId, 'CONFIRMED');
    else if (event.type === ORDER_EVENTS.cancelled) notifications.notify(dataOf<OrderTerminalData>(event).orderId, 'CANCELLED');
    else return undefined;
    return HANDLED;
  };
}
