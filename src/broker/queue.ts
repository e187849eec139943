import { Deque } from './deque.js';
import { type Exchange } from './exchange.js';
import { type FieldTable } from './field-table.js';
import { type Message, type QueuedMessage } from './message.js';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';
export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen';

/** Queue arguments the broker honours (validated by the declare handler). */
export interface QueueLimits {
  readonly messageTtl: number | undefined;
  readonly maxLength: number | undefined;
  readonly overflow: Overflow;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
}

/** What a queue needs from a consumer; implemented by the channel's consumer record. */
export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  canTake(): boolean;
  deliver(entry: QueuedMessage, queue: Queue): void;
  /** The queue went away under the consumer (basic.cancel from the server). */
  cancelledByServer(): void;
}

/** What a queue needs from the broker around it. */
export interface QueueHost {
  deadLetter(queue: Queue, entry: QueuedMessage, reason: DeadLetterReason): void;
  /** The last consumer of an auto-delete queue went away. */
  autoDeleteQueue(queue: Queue): void;
}

/**
 * A FIFO of ready messages with round-robin delivery to consumers that have credit.
 * Unacked messages live on the channel that received them; the queue only counts them.
 */
export class Queue {
  readonly ready = new Deque<QueuedMessage>();
  readonly consumers: Consumer[] = [];
  readonly boundTo = new Set<Exchange>();
  unacked = 0;
  deleted = false;
  private rr = 0;
  private hadConsumer = false;
  private draining = false;
  private ttlTimer: NodeJS.Timeout | null = null;
  private ttlTimerAt = 0;

  constructor(
    readonly name: string,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    /** Owning connection of an exclusive queue, null otherwise. */
    readonly owner: object | null,
    readonly args: FieldTable,
    readonly limits: QueueLimits,
    private readonly host: QueueHost,
  ) {}

  /**
   * Enqueues a routed message. Returns false when the queue refused it
   * (x-overflow reject-publish*), which makes a confirm-mode publish a nack.
   */
  enqueue(msg: Message, now: number): boolean {
    const { maxLength, overflow, messageTtl } = this.limits;
    let ttl = messageTtl;
    if (msg.ttl !== undefined && (ttl === undefined || msg.ttl < ttl)) ttl = msg.ttl;
    const entry: QueuedMessage = { msg, redelivered: false, expiresAt: ttl === undefined ? 0 : now + ttl };
    if (maxLength !== undefined && overflow !== 'drop-head' && this.ready.length >= maxLength) {
      // Try a consumer first: only ready messages count towards the limit.
      if (this.ready.length === 0 && this.deliverNow(entry)) return true;
      if (overflow === 'reject-publish-dlx') this.host.deadLetter(this, entry, 'maxlen');
      return false;
    }
    this.ready.push(entry);
    this.drain(now);
    if (maxLength !== undefined) {
      while (this.ready.length > maxLength) {
        const dropped = this.ready.shift();
        if (dropped !== undefined) this.host.deadLetter(this, dropped, 'maxlen');
      }
    }
    if (entry.expiresAt !== 0) this.armTtl(now);
    return true;
  }

  private deliverNow(entry: QueuedMessage): boolean {
    const c = this.nextConsumer();
    if (c === null) return false;
    c.deliver(entry, this);
    return true;
  }

  /** Puts messages back at the head, in the given order, marked redelivered. */
  requeue(entries: QueuedMessage[], now: number): void {
    if (this.deleted) return;
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i] as QueuedMessage;
      e.redelivered = true;
      this.ready.unshift(e);
    }
    this.drain(now);
    this.armTtl(now);
  }

  /** Takes the next live message for basic.get, expiring dead ones on the way. */
  take(now: number): QueuedMessage | undefined {
    for (;;) {
      const e = this.ready.shift();
      if (e === undefined) return undefined;
      if (e.expiresAt !== 0 && e.expiresAt < now) {
        this.host.deadLetter(this, e, 'expired');
        continue;
      }
      return e;
    }
  }

  /** Delivers ready messages to consumers with credit, round robin. */
  drain(now: number): void {
    if (this.draining || this.consumers.length === 0) return;
    this.draining = true;
    try {
      while (this.ready.length > 0) {
        const c = this.nextConsumer();
        if (c === null) break;
        const e = this.ready.shift() as QueuedMessage;
        if (e.expiresAt !== 0 && e.expiresAt < now) {
          this.host.deadLetter(this, e, 'expired');
          continue;
        }
        c.deliver(e, this);
      }
    } finally {
      this.draining = false;
    }
  }

  private nextConsumer(): Consumer | null {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = this.consumers[idx] as Consumer;
      if (c.canTake()) {
        this.rr = idx + 1;
        return c;
      }
    }
    return null;
  }

  addConsumer(c: Consumer, now: number): void {
    this.consumers.push(c);
    this.hadConsumer = true;
    this.drain(now);
  }

  /** Removes a consumer; an auto-delete queue goes with its last consumer. */
  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.autoDelete && this.hadConsumer && this.consumers.length === 0 && !this.deleted) this.host.autoDeleteQueue(this);
  }

  get exclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  purge(): number {
    const n = this.ready.length;
    this.ready.clear();
    this.clearTtl();
    return n;
  }

  /** Expires messages at the head (RabbitMQ drops expired messages only from the head). */
  private expireHead(now: number): void {
    for (;;) {
      const e = this.ready.peek();
      if (e === undefined || e.expiresAt === 0 || e.expiresAt >= now) break;
      this.ready.shift();
      this.host.deadLetter(this, e, 'expired');
    }
  }

  private armTtl(now: number): void {
    if (this.deleted) return;
    const head = this.ready.peek();
    if (head === undefined || head.expiresAt === 0) {
      this.clearTtl();
      return;
    }
    if (this.ttlTimer !== null && this.ttlTimerAt <= head.expiresAt) return;
    this.clearTtl();
    this.ttlTimerAt = head.expiresAt;
    this.ttlTimer = setTimeout(this.onTtl, Math.max(0, head.expiresAt - now + 1));
  }

  private readonly onTtl = (): void => {
    this.ttlTimer = null;
    const now = Date.now();
    this.expireHead(now);
    this.armTtl(now);
  };

  clearTtl(): void {
    if (this.ttlTimer !== null) clearTimeout(this.ttlTimer);
    this.ttlTimer = null;
  }
}
