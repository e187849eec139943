import type { Channel, ConsumeMessage } from 'amqplib';
import type { OrderRecord } from '../workflow/orders.js';
import { ORDER_STATUSES, type CancelReason } from '../workflow/types.js';
import type { WireMeter } from '../wire/meter.js';

/**
 * The read side of the event-driven patterns (issue #16): AMQP request–reply. The client
 * publishes `{ customerId }` to the events exchange with this routing key (bound to the
 * orders service's query queue), `replyTo: amq.rabbitmq.reply-to` and a correlation id;
 * orders answers the customer's orders (`[{ orderId, status, reason? }]`, oldest first) to
 * the reply-to address with the same correlation id.
 */
export const CUSTOMER_ORDERS = 'query.customer-orders';
/** RabbitMQ's direct reply-to pseudo-queue (the embedded broker has it too). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
/** How long a read waits for its reply, ms. */
export const READ_TIMEOUT_MS = 5_000;

export const READ_PATH = `AMQP request–reply: ${CUSTOMER_ORDERS} to the orders service, answered on direct reply-to (${DIRECT_REPLY_TO}) by correlation id`;

/** A read that got no reply in time (the orders service down, a fault on the path). */
export class ReadTimeoutError extends Error {
  readonly code = 'PB_ERR_READ_TIMEOUT';
  constructor(customerId: string, timeoutMs: number) {
    super(`${CUSTOMER_ORDERS}: no reply for customer ${JSON.stringify(customerId)} within ${timeoutMs} ms`);
    this.name = 'ReadTimeoutError';
  }
}

/** The reply channel closed (a reconnect, a stop) while reads waited on it. */
export class ReadChannelClosedError extends Error {
  readonly code = 'PB_ERR_READ_CHANNEL_CLOSED';
  constructor() {
    super(`${CUSTOMER_ORDERS}: the reply channel closed before the reply came`);
    this.name = 'ReadChannelClosedError';
  }
}

export const encodeQuery = (customerId: string): Buffer => Buffer.from(JSON.stringify({ customerId }));

export function parseQuery(body: Buffer): string {
  const value: unknown = JSON.parse(body.toString('utf8'));
  const customerId = (value as { customerId?: unknown } | null)?.customerId;
  if (typeof customerId !== 'string') throw new TypeError(`${CUSTOMER_ORDERS}: malformed query`);
  return customerId;
}

/** The reply's body: only the record's fields, whatever else the service keeps. */
export const encodeOrders = (orders: readonly OrderRecord[]): Buffer =>
  Buffer.from(JSON.stringify(orders.map(({ orderId, status, reason }) => (reason ? { orderId, status, reason } : { orderId, status }))));

const STATUSES: ReadonlySet<unknown> = new Set(ORDER_STATUSES);
const REASONS: ReadonlySet<unknown> = new Set<CancelReason>(['out_of_stock', 'payment_declined', 'downstream_error']);

export function parseOrders(body: Buffer): OrderRecord[] {
  const value: unknown = JSON.parse(body.toString('utf8'));
  if (!Array.isArray(value) || !value.every(isOrderRecord)) throw new TypeError(`${CUSTOMER_ORDERS}: malformed reply`);
  return value;
}

function isOrderRecord(v: unknown): v is OrderRecord {
  const r = v as Partial<Record<keyof OrderRecord, unknown>> | null;
  return typeof r?.orderId === 'string' && STATUSES.has(r.status) && (r.reason === undefined || REASONS.has(r.reason));
}

interface Waiting {
  resolve(orders: readonly OrderRecord[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface CustomerOrdersClientOptions {
  /** A channel on the client's connection (the one placeOrder uses), opened when the first read needs it. */
  readonly channel: () => Promise<Channel>;
  /** Where queries go: the events exchange. */
  readonly exchange: string;
  /** Counts the messages the reads exchange (the bytes are counted at the connection's socket). */
  readonly meter: WireMeter;
  readonly timeoutMs?: number;
}

/**
 * The client end of the read: one channel consuming direct reply-to, requests matched to
 * replies by correlation id. The channel is opened lazily and again after it closed (the
 * connection recovered): waiting reads fail with it, later reads use a new one.
 */
export class CustomerOrdersClient {
  private readonly waiting = new Map<string, Waiting>();
  private replies: Promise<Channel> | undefined;
  /** The reply channel once it consumes direct reply-to; every waiting read was sent on it. */
  private current: Channel | undefined;
  private next = 0;
  private stopped = false;

  constructor(private readonly options: CustomerOrdersClientOptions) {}

  async customerOrders(customerId: string): Promise<readonly OrderRecord[]> {
    if (this.stopped) throw new ReadChannelClosedError();
    const ch = await this.channel();
    const correlationId = `r${++this.next}`;
    const timeoutMs = this.options.timeoutMs ?? READ_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new ReadTimeoutError(customerId, timeoutMs));
      }, timeoutMs);
      this.waiting.set(correlationId, { resolve, reject, timer });
      this.options.meter.countMessages(1);
      try {
        ch.publish(this.options.exchange, CUSTOMER_ORDERS, encodeQuery(customerId), { replyTo: DIRECT_REPLY_TO, correlationId, contentType: 'application/json' });
      } catch (err) {
        this.settle(correlationId, (w) => w.reject(err instanceof Error ? err : new Error(String(err))));
      }
    });
  }

  private channel(): Promise<Channel> {
    this.replies ??= this.openReplies().catch((err: unknown) => {
      this.replies = undefined;
      throw err;
    });
    return this.replies;
  }

  /** Consume direct reply-to before the first publish: RabbitMQ refuses the reply-to otherwise. */
  private async openReplies(): Promise<Channel> {
    const ch = await this.options.channel();
    ch.on('error', () => undefined); // a channel error also closes it: handled there
    ch.on('close', () => this.closed(ch));
    await ch.consume(DIRECT_REPLY_TO, (msg) => this.reply(msg), { noAck: true });
    this.current = ch;
    return ch;
  }

  private reply(msg: ConsumeMessage | null): void {
    if (!msg) return;
    this.options.meter.countMessages(1);
    const correlationId = String(msg.properties.correlationId);
    this.settle(correlationId, (w) => {
      try {
        w.resolve(parseOrders(msg.content));
      } catch (err) {
        w.reject(err as Error);
      }
    });
  }

  private settle(correlationId: string, how: (w: Waiting) => void): void {
    const w = this.waiting.get(correlationId);
    if (!w) return; // timed out already, or a duplicate reply
    this.waiting.delete(correlationId);
    clearTimeout(w.timer);
    how(w);
  }

  /** A channel that closes before it consumed fails its openReplies() instead. */
  private closed(ch: Channel): void {
    if (this.current !== ch) return;
    this.current = undefined;
    this.replies = undefined;
    for (const id of [...this.waiting.keys()]) this.settle(id, (w) => w.reject(new ReadChannelClosedError()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.waiting.keys()]) this.settle(id, (w) => w.reject(new ReadChannelClosedError()));
    const replies = this.replies;
    this.replies = undefined;
    this.current = undefined;
    await replies?.then((ch) => ch.close()).catch(() => undefined);
  }
}
