import { ReplyAddresses } from './direct-reply-to.js';
import { Exchange } from './exchange.js';
import { type FieldTable, type FieldValue } from './field-table.js';
import { type Message, type QueuedMessage } from './message.js';
import { headersOf, rawExpirationOf, rewriteProps } from './properties.js';
import { type DeadLetterReason, Queue, type QueueHost } from './queue.js';

/** Result of routing one publish. */
export interface RouteResult {
  /** Queues that took the message. */
  routed: number;
  /** Some queue refused the message (overflow reject-publish): nack under confirms. */
  refused: boolean;
}

/**
 * The single virtual host "/": exchanges, queues, routing and dead-lettering.
 * The default exchange ("") is implicit and routes by queue name.
 */
export class VirtualHost implements QueueHost {
  readonly name = '/';
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** Direct reply-to: `amq.rabbitmq.reply-to.<token>` → the channel consuming its replies. */
  readonly replies = new ReplyAddresses();

  constructor() {
    for (const [name, type] of [
      ['amq.direct', 'direct'],
      ['amq.fanout', 'fanout'],
      ['amq.topic', 'topic'],
      ['amq.headers', 'headers'],
      ['amq.match', 'headers'],
    ] as const) {
      this.exchanges.set(name, new Exchange(name, type, true, false, false, {}));
    }
  }

  /** Routes a message from a named exchange (which must exist) or the default one. */
  publish(exchange: Exchange | null, msg: Message, now: number): RouteResult {
    let routed = 0;
    let refused = false;
    if (exchange === null) {
      if (ReplyAddresses.isAddress(msg.routingKey)) return { routed: this.replies.deliver(msg) ? 1 : 0, refused: false };
      const q = this.queues.get(msg.routingKey);
      if (q !== undefined) {
        if (q.enqueue(msg, now)) routed++;
        else refused = true;
      }
      return { routed, refused };
    }
    const targets = exchange.route(msg.routingKey, () => safeHeaders(msg.props));
    for (let i = 0; i < targets.length; i++) {
      if ((targets[i] as Queue).enqueue(msg, now)) routed++;
      else refused = true;
    }
    return { routed, refused };
  }

  deleteQueue(q: Queue): number {
    if (q.deleted) return 0;
    const n = q.ready.length;
    q.deleted = true;
    q.clearTtl();
    q.ready.clear();
    this.queues.delete(q.name);
    for (const x of q.boundTo) {
      x.removeDestination(q);
      if (x.shouldAutoDelete) this.deleteExchange(x);
    }
    q.boundTo.clear();
    // Consumers of a deleted queue get a server-sent basic.cancel.
    const consumers = q.consumers.splice(0, q.consumers.length);
    for (const c of consumers) c.cancelledByServer();
    return n;
  }

  /** Removes an exchange with its bindings in both directions. */
  deleteExchange(x: Exchange): void {
    if (this.exchanges.get(x.name) !== x) return;
    this.exchanges.delete(x.name);
    for (const b of x.bindings) b.destination.boundTo.delete(x);
    x.bindings.length = 0;
    for (const source of x.boundTo) {
      source.removeDestination(x);
      if (source.shouldAutoDelete) this.deleteExchange(source);
    }
    x.boundTo.clear();
  }

  autoDeleteQueue(q: Queue): void {
    this.deleteQueue(q);
  }

  /**
   * Republishes a rejected, expired or overflowed message to the queue's
   * dead-letter exchange, adding RabbitMQ's `x-death` bookkeeping. Dropped when no DLX
   * is configured or it does not exist; dead-letter cycles are cut as RabbitMQ does.
   */
  deadLetter(queue: Queue, entry: QueuedMessage, reason: DeadLetterReason): void {
    const dlxName = queue.limits.deadLetterExchange;
    if (dlxName === undefined) return;
    const dlx = dlxName === '' ? null : this.exchanges.get(dlxName);
    if (dlx === undefined) return;
    const msg = entry.msg;
    const routingKey = queue.limits.deadLetterRoutingKey ?? msg.routingKey;
    const now = this.now();
    let props = msg.props;
    // Queues this message has already died in; null when its properties are unreadable.
    let diedIn: Set<string> | null = null;
    let rejectedBefore = reason === 'rejected';
    try {
      const headers = deathHeaders(headersOf(msg.props), queue.name, reason, msg, now);
      props = rewriteProps(msg.props, headers, true);
      const deaths = (headers['x-death'] as FieldTable[]).filter((d) => typeof d === 'object' && d !== null);
      diedIn = new Set(deaths.map((d) => String(d['queue'])));
      rejectedBefore = deaths.some((d) => d['reason'] === 'rejected');
    } catch {
      // keep the original properties
    }
    const dead: Message = { exchange: dlxName, routingKey, props, body: msg.body, ttl: undefined };
    const targets =
      dlx === null
        ? [this.queues.get(routingKey)].filter((q): q is Queue => q !== undefined)
        : dlx.route(routingKey, () => safeHeaders(props));
    for (const t of targets) {
      // RabbitMQ's cycle rule: a message that would re-enter a queue it already died in
      // is dropped, unless a consumer rejected it somewhere along the way.
      const cycle = diedIn === null ? t === queue : diedIn.has(t.name);
      if (cycle && !rejectedBefore) continue;
      t.enqueue(dead, now);
    }
  }

  private now(): number {
    return Date.now();
  }
}

/** Message headers for a headers exchange; malformed properties match as no headers. */
function safeHeaders(props: Buffer): FieldTable {
  try {
    return headersOf(props);
  } catch {
    return {};
  }
}

function deathHeaders(headers: FieldTable, queue: string, reason: DeadLetterReason, msg: Message, now: number): FieldTable {
  const previous = Array.isArray(headers['x-death']) ? (headers['x-death'] as FieldValue[]) : [];
  let count = 1;
  const rest: FieldValue[] = [];
  for (const d of previous) {
    const t = d as FieldTable;
    if (t !== null && typeof t === 'object' && t['queue'] === queue && t['reason'] === reason) {
      count = (typeof t['count'] === 'number' ? t['count'] : 0) + 1;
    } else rest.push(d);
  }
  const entry: FieldTable = {
    count,
    reason,
    queue,
    time: { timestamp: Math.floor(now / 1000) },
    exchange: msg.exchange,
    'routing-keys': [msg.routingKey],
  };
  const expiration = rawExpirationOf(msg.props);
  if (expiration !== undefined) entry['original-expiration'] = expiration;
  const out: FieldTable = { ...headers, 'x-death': [entry, ...rest] };
  if (out['x-first-death-reason'] === undefined) {
    out['x-first-death-reason'] = reason;
    out['x-first-death-queue'] = queue;
    out['x-first-death-exchange'] = msg.exchange;
  }
  out['x-last-death-reason'] = reason;
  out['x-last-death-queue'] = queue;
  out['x-last-death-exchange'] = msg.exchange;
  return out;
}
