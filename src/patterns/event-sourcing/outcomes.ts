import type { EventStore, RecordedEvent, Subscription } from '../../event-store/index.js';
import type { CancelReason, TerminalStatus } from '../../workflow/types.js';
import { ORDER_EVENTS, dataOf, orderStream, type OrderTerminalData } from './events.js';
import { applyOrderEvent, type MaybeOrder } from './order-aggregate.js';

/** An order's outcome as the write side recorded it: its terminal event on the order's stream. */
export interface OrderVerdict {
  readonly orderId: string;
  readonly status: TerminalStatus;
  readonly reason?: CancelReason;
}

/** Orders created here whose outcome is remembered until asked for; beyond this the oldest are forgotten (a wait then reads the stream). */
const MAX_REMEMBERED = 200_000;
const RESUBSCRIBE_MS = 100;

interface Waiter {
  readonly resolve: (verdict: OrderVerdict | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/** The verdict an order's terminal event records; undefined for any other event. */
export function verdictOf(event: Pick<RecordedEvent, 'type' | 'data'>): OrderVerdict | undefined {
  if (event.type !== ORDER_EVENTS.confirmed && event.type !== ORDER_EVENTS.cancelled) return undefined;
  const { orderId, reason } = dataOf<OrderTerminalData>(event);
  if (event.type === ORDER_EVENTS.confirmed) return { orderId, status: 'CONFIRMED' };
  return reason === undefined ? { orderId, status: 'CANCELLED' } : { orderId, status: 'CANCELLED', reason };
}

/**
 * The command side's answer to "how did my order end?", from the write model: a live
 * subscription to the log sees each order's terminal event (OrderConfirmed or
 * OrderCancelled, appended by the processors) and answers the waits for it. The client
 * learns the outcome as soon as the log has it, before — and apart from — the projection,
 * so a read of the read model right after may still show the order pending: the CQRS
 * trade-off that read-your-writes measures.
 *
 * An outcome that arrives before its wait is remembered for the orders created here; a
 * wait for any other order (a retried command, a forgotten one) folds the order's stream.
 */
export class OrderOutcomes {
  private readonly remembered = new Map<string, OrderVerdict | null>();
  private readonly waiting = new Map<string, Set<Waiter>>();
  private sub: Subscription | undefined;
  private position = 0;
  private stopped = false;
  private resubscribe: NodeJS.Timeout | undefined;

  constructor(private readonly store: EventStore) {}

  /** Follows the log live from its head now. */
  async start(): Promise<void> {
    this.position = await this.store.head();
    this.subscribe();
  }

  /** An order this command handler created: its outcome is kept until a wait asks for it. */
  created(orderId: string): void {
    if (this.remembered.has(orderId)) return;
    this.remembered.set(orderId, null);
    if (this.remembered.size > MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next();
      if (!oldest.done) this.remembered.delete(oldest.value);
    }
  }

  /**
   * The order's verdict once the log has it, or undefined after `ms` without one; `null`
   * at once for an order the log does not have.
   */
  async wait(orderId: string, ms: number): Promise<OrderVerdict | undefined | null> {
    const known = this.remembered.get(orderId);
    if (known) {
      this.remembered.delete(orderId);
      return known;
    }
    const answer = this.enqueue(orderId, ms);
    if (known === undefined) {
      const folded = await this.fold(orderId);
      if (folded === null) {
        this.settle(orderId, undefined);
        return null;
      }
      if (folded.status === 'CONFIRMED' || folded.status === 'CANCELLED') {
        const reason = folded.reason;
        this.settle(orderId, reason === undefined ? { orderId, status: folded.status } : { orderId, status: folded.status, reason });
      }
    }
    return answer;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resubscribe);
    for (const set of this.waiting.values()) for (const w of set) clearTimeout(w.timer);
    this.waiting.clear();
    await this.sub?.stop();
  }

  private enqueue(orderId: string, ms: number): Promise<OrderVerdict | undefined> {
    return new Promise((resolve) => {
      const set = this.waiting.get(orderId) ?? new Set<Waiter>();
      this.waiting.set(orderId, set);
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          set.delete(waiter);
          if (set.size === 0) this.waiting.delete(orderId);
          resolve(undefined);
        }, Math.max(0, ms)),
      };
      set.add(waiter);
    });
  }

  /** Answers every wait for the order (a verdict, or undefined: nothing to wait for). */
  private settle(orderId: string, verdict: OrderVerdict | undefined): void {
    const set = this.waiting.get(orderId);
    if (!set) return;
    this.waiting.delete(orderId);
    for (const w of set) {
      clearTimeout(w.timer);
      w.resolve(verdict);
    }
  }

  private handle(event: RecordedEvent): void {
    this.position = event.position;
    const verdict = verdictOf(event);
    if (!verdict) return;
    if (this.waiting.has(verdict.orderId)) {
      this.remembered.delete(verdict.orderId);
      this.settle(verdict.orderId, verdict);
    } else if (this.remembered.has(verdict.orderId)) {
      this.remembered.set(verdict.orderId, verdict);
    }
  }

  private subscribe(): void {
    const sub = this.store.subscribe(this.position, (event) => this.handle(event));
    this.sub = sub;
    // A lost subscription (the store connection dropped) resumes after the last event seen: catch-up, then live again.
    sub.done.catch(() => {
      if (this.stopped || this.sub !== sub) return;
      this.sub = undefined;
      this.resubscribe = setTimeout(() => {
        this.resubscribe = undefined;
        if (!this.stopped) this.subscribe();
      }, RESUBSCRIBE_MS);
    });
  }

  /** The order folded from its stream; null when the stream does not exist. */
  private async fold(orderId: string): Promise<MaybeOrder> {
    let state: MaybeOrder = null;
    for (const event of await this.store.readStream(orderStream(orderId))) state = applyOrderEvent(state, event);
    return state;
  }
}
