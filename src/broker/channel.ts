import { randomBytes } from 'node:crypto';
import { AmqpError } from './amqp-error.js';
import { CLASS_BASIC, FRAME_BODY, FRAME_HEADER, FRAME_METHOD, M, ReplyCode } from './constants.js';
import { ChannelConsumer, type ConsumerChannel } from './consumer.js';
import { REPLY_TO, type ReplyTarget } from './direct-reply-to.js';
import { type Exchange } from './exchange.js';
import { type FrameWriter } from './frame-writer.js';
import { type Message, type QueuedMessage } from './message.js';
import { expirationOf, replyToOf, withReplyTo } from './properties.js';
import { type Queue } from './queue.js';
import { Reader } from './reader.js';
import * as topology from './topology.js';
import { type VirtualHost } from './vhost.js';

/** What a channel needs from its connection. */
export interface ChannelHost {
  readonly out: FrameWriter;
  readonly vhost: VirtualHost;
  /** Negotiated frame-max (bytes, including framing). */
  readonly frameMax: number;
  /** Client advertised `consumer_cancel_notify`. */
  readonly cancelNotify: boolean;
  /** False while the socket's send buffer is full: deliveries wait for 'drain'. */
  readonly writable: boolean;
  releaseChannel(ch: Channel): void;
  markConfirmDirty(ch: Channel): void;
}

interface Unacked {
  readonly entry: QueuedMessage;
  readonly queue: Queue;
  readonly consumer: ChannelConsumer | null;
}

interface PendingPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly mandatory: boolean;
}

/** RabbitMQ's default `max_message_size` (128 MiB). */
const MAX_MESSAGE_SIZE = 128 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

function soft(code: number, text: string): AmqpError {
  return new AmqpError(code, text);
}

/**
 * One AMQP channel: method dispatch, content assembly, consumers, unacked deliveries,
 * prefetch and publisher confirms. Soft errors close the channel (channel.close, then
 * frames are discarded until close-ok); hard errors propagate to the connection.
 */
export class Channel implements ConsumerChannel, ReplyTarget {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private deliveryTag = 0;
  private readonly unacked = new Map<number, Unacked>();
  private readonly consumers = new Map<string, ChannelConsumer>();
  /** Unacked deliveries made to consumers (basic.get ones do not count against qos). */
  private consumerUnacked = 0;
  /** basic.qos global=false: applied to consumers created afterwards. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: shared by all consumers of the channel. */
  private channelPrefetch = 0;
  private confirm = false;
  private publishSeq = 0;
  private confirmUpTo = 0;
  private confirmSent = 0;
  confirmDirty = false;
  private pub: PendingPublish | null = null;
  private expectHeader = false;
  private bodySize = 0;
  private received = 0;
  private props: Buffer = EMPTY;
  private parts: Buffer[] = [];
  private lastQueue = '';
  /** Direct reply-to: this channel's consumer of `amq.rabbitmq.reply-to` and the address that names it. */
  private replyConsumer: { readonly tag: string; readonly address: string } | null = null;

  constructor(
    readonly id: number,
    private readonly conn: ChannelHost,
  ) {}

  private get out(): FrameWriter {
    return this.conn.out;
  }

  private get vhost(): VirtualHost {
    return this.conn.vhost;
  }

  // ---- frames -------------------------------------------------------------------------

  onFrame(type: number, buf: Buffer, start: number, end: number): void {
    if (this.state !== 'open') {
      if (type === FRAME_METHOD && end - start >= 4) {
        const id = buf.readUInt32BE(start);
        if (id === M.channelCloseOk || id === M.channelClose) {
          if (id === M.channelClose) this.emptyMethod(M.channelCloseOk);
          this.state = 'closed';
          this.conn.releaseChannel(this);
        }
      }
      return;
    }
    let method = this.pub !== null ? M.basicPublish : 0;
    try {
      if (this.pub !== null) {
        this.onContent(type, buf, start, end);
        return;
      }
      if (type !== FRAME_METHOD) {
        throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, 'expected method frame, got non method frame instead');
      }
      if (end - start < 4) throw new AmqpError(ReplyCode.FRAME_ERROR, 'method frame too short');
      method = buf.readUInt32BE(start);
      this.onMethod(method, new Reader(buf, start + 4, end));
    } catch (e) {
      if (!(e instanceof AmqpError)) throw e;
      const err = e.classId === 0 && method !== 0 ? e.withMethod(method) : e;
      if (err.hard) throw err;
      this.closeWithError(err);
    }
  }

  private onContent(type: number, buf: Buffer, start: number, end: number): void {
    if (this.expectHeader) {
      if (type !== FRAME_HEADER) {
        throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, 'expected content header for class 60, got non content header frame instead');
      }
      const r = new Reader(buf, start, end);
      const classId = r.u16();
      r.u16();
      const size = r.u64();
      if (classId !== CLASS_BASIC) {
        throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, `content header for class ${classId} does not match method class 60`);
      }
      if (end - r.pos < 2) throw new AmqpError(ReplyCode.FRAME_ERROR, 'content header too short');
      this.props = buf.subarray(r.pos, end);
      this.expectHeader = false;
      this.bodySize = size;
      this.received = 0;
      if (size > MAX_MESSAGE_SIZE) {
        this.pub = null;
        throw soft(ReplyCode.PRECONDITION_FAILED, `message size ${size} is larger than configured max size ${MAX_MESSAGE_SIZE}`);
      }
      if (size === 0) this.completePublish(EMPTY);
      return;
    }
    if (type !== FRAME_BODY) {
      throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, 'expected content body, got non content body frame instead');
    }
    const n = end - start;
    this.received += n;
    if (this.received > this.bodySize) {
      throw new AmqpError(ReplyCode.FRAME_ERROR, `content body exceeds the declared size ${this.bodySize}`);
    }
    if (this.received === this.bodySize && this.parts.length === 0) {
      this.completePublish(buf.subarray(start, end));
    } else {
      this.parts.push(buf.subarray(start, end));
      if (this.received === this.bodySize) {
        const body = Buffer.concat(this.parts);
        this.parts = [];
        this.completePublish(body);
      }
    }
  }

  // ---- methods ------------------------------------------------------------------------

  private onMethod(id: number, r: Reader): void {
    switch (id) {
      case M.basicPublish: {
        r.u16();
        const exchange = r.shortstr();
        const routingKey = r.shortstr();
        const bits = r.u8();
        if ((bits & 2) !== 0) throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, 'immediate=true');
        this.pub = { exchange, routingKey, mandatory: (bits & 1) !== 0 };
        this.expectHeader = true;
        return;
      }
      case M.basicAck: {
        const tag = r.u64();
        const bits = r.u8();
        this.settle(this.collect(tag, (bits & 1) !== 0), 'ack');
        return;
      }
      case M.basicNack: {
        const tag = r.u64();
        const bits = r.u8();
        this.settle(this.collect(tag, (bits & 1) !== 0), (bits & 2) !== 0 ? 'requeue' : 'dead');
        return;
      }
      case M.basicReject: {
        const tag = r.u64();
        const bits = r.u8();
        this.settle(this.collect(tag, false), (bits & 1) !== 0 ? 'requeue' : 'dead');
        return;
      }
      case M.basicQos:
        return this.qos(r.u32(), r.u16(), (r.u8() & 1) !== 0);
      case M.basicConsume: {
        r.u16();
        const queue = r.shortstr();
        const tag = r.shortstr();
        const bits = r.u8();
        r.table();
        return this.consume(queue, tag, (bits & 2) !== 0, (bits & 4) !== 0, (bits & 8) !== 0);
      }
      case M.basicCancel: {
        const tag = r.shortstr();
        return this.cancel(tag, (r.u8() & 1) !== 0);
      }
      case M.basicGet: {
        r.u16();
        const queue = r.shortstr();
        return this.get(queue, (r.u8() & 1) !== 0);
      }
      case M.basicRecover:
      case M.basicRecoverAsync: {
        const requeue = (r.u8() & 1) !== 0;
        if (!requeue) throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, 'requeue=false');
        this.requeueAll();
        if (id === M.basicRecover) this.emptyMethod(M.basicRecoverOk);
        return;
      }
      case M.confirmSelect: {
        const nowait = (r.u8() & 1) !== 0;
        this.confirm = true;
        if (!nowait) this.emptyMethod(M.confirmSelectOk);
        return;
      }
      case M.exchangeDeclare: {
        r.u16();
        const name = r.shortstr();
        const type = r.shortstr();
        const bits = r.u8();
        const args = r.table();
        const flags = { passive: (bits & 1) !== 0, durable: (bits & 2) !== 0, autoDelete: (bits & 4) !== 0, internal: (bits & 8) !== 0 };
        topology.declareExchange(this.vhost, name, type, flags, args);
        if ((bits & 16) === 0) this.emptyMethod(M.exchangeDeclareOk);
        return;
      }
      case M.exchangeDelete: {
        r.u16();
        const name = r.shortstr();
        const bits = r.u8();
        topology.deleteExchange(this.vhost, name, (bits & 1) !== 0);
        if ((bits & 2) === 0) this.emptyMethod(M.exchangeDeleteOk);
        return;
      }
      case M.exchangeBind:
      case M.exchangeUnbind: {
        r.u16();
        const destination = r.shortstr();
        const source = r.shortstr();
        const routingKey = r.shortstr();
        const nowait = (r.u8() & 1) !== 0;
        const args = r.table();
        const bind = id === M.exchangeBind;
        topology.bindExchange(this.vhost, bind, destination, source, routingKey, args);
        if (!nowait) this.emptyMethod(bind ? M.exchangeBindOk : M.exchangeUnbindOk);
        return;
      }
      case M.queueDeclare: {
        r.u16();
        const name = r.shortstr();
        const bits = r.u8();
        const args = r.table();
        const flags = { passive: (bits & 1) !== 0, durable: (bits & 2) !== 0, exclusive: (bits & 4) !== 0, autoDelete: (bits & 8) !== 0 };
        const q = topology.declareQueue(this.vhost, this.conn, flags.passive ? this.queueName(name) : name, flags, args);
        this.lastQueue = q.name;
        if ((bits & 16) === 0) {
          this.out.method(this.id, M.queueDeclareOk);
          this.out.shortstr(q.name);
          this.out.u32(q.ready.length);
          this.out.u32(q.consumers.length);
          this.out.end();
        }
        return;
      }
      case M.queueBind:
      case M.queueUnbind: {
        r.u16();
        const queue = this.queueName(r.shortstr());
        const exchange = r.shortstr();
        const routingKey = r.shortstr();
        const bind = id === M.queueBind;
        const nowait = bind ? (r.u8() & 1) !== 0 : false;
        const args = r.table();
        topology.bindQueue(this.vhost, this.conn, bind, queue, exchange, routingKey, args);
        if (!nowait) this.emptyMethod(bind ? M.queueBindOk : M.queueUnbindOk);
        return;
      }
      case M.queuePurge: {
        r.u16();
        const q = this.queueFor(r.shortstr());
        const nowait = (r.u8() & 1) !== 0;
        const n = q.purge();
        if (!nowait) this.countMethod(M.queuePurgeOk, n);
        return;
      }
      case M.queueDelete: {
        r.u16();
        const name = this.queueName(r.shortstr());
        const bits = r.u8();
        const n = topology.deleteQueue(this.vhost, this.conn, name, (bits & 1) !== 0, (bits & 2) !== 0);
        if ((bits & 4) === 0) this.countMethod(M.queueDeleteOk, n);
        return;
      }
      case M.channelFlow: {
        // RabbitMQ accepts only active=true from clients (active=false is NOT_IMPLEMENTED).
        const active = (r.u8() & 1) !== 0;
        if (!active) throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, 'active=false');
        this.out.method(this.id, M.channelFlowOk);
        this.out.u8(1);
        this.out.end();
        return;
      }
      case M.channelFlowOk:
        return;
      case M.channelClose:
        this.emptyMethod(M.channelCloseOk);
        this.abandon();
        this.conn.releaseChannel(this);
        return;
      case M.channelCloseOk:
        return;
      case M.channelOpen:
        throw new AmqpError(ReplyCode.CHANNEL_ERROR, "second 'channel.open' seen");
      case M.txSelect:
      case M.txCommit:
      case M.txRollback:
        throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, 'transactions are not supported by the embedded broker');
      default:
        if (id >>> 16 === 10) throw new AmqpError(ReplyCode.COMMAND_INVALID, 'connection method on a non-zero channel');
        throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, `unknown method ${id >>> 16}.${id & 0xffff}`);
    }
  }

  // ---- publish ------------------------------------------------------------------------

  private completePublish(body: Buffer): void {
    const p = this.pub as PendingPublish;
    this.pub = null;
    const props = this.replyAddressed(this.props);
    this.props = EMPTY;
    let exchange: Exchange | null = null;
    if (p.exchange !== '') {
      const x = this.vhost.exchanges.get(p.exchange);
      if (x === undefined) throw soft(ReplyCode.NOT_FOUND, `no exchange '${p.exchange}' in vhost '/'`);
      if (x.internal) throw soft(ReplyCode.ACCESS_REFUSED, `cannot publish to internal exchange '${p.exchange}' in vhost '/'`);
      exchange = x;
    }
    const msg: Message = { exchange: p.exchange, routingKey: p.routingKey, props, body, ttl: expirationOf(props) };
    const result = this.vhost.publish(exchange, msg, Date.now());
    if (result.routed === 0 && !result.refused && p.mandatory) {
      const out = this.out;
      out.method(this.id, M.basicReturn);
      out.u16(ReplyCode.NO_ROUTE);
      out.shortstr('NO_ROUTE');
      out.shortstr(p.exchange);
      out.shortstr(p.routingKey);
      out.end();
      out.content(this.id, props, body, this.conn.frameMax);
    }
    if (this.confirm) {
      const seq = ++this.publishSeq;
      if (result.refused) {
        this.flushConfirms();
        this.out.method(this.id, M.basicNack);
        this.out.u64(seq);
        this.out.u8(0);
        this.out.end();
        this.confirmSent = seq;
        this.confirmUpTo = seq;
      } else {
        this.confirmUpTo = seq;
        if (!this.confirmDirty) {
          this.confirmDirty = true;
          this.conn.markConfirmDirty(this);
        }
      }
    }
  }

  /** The properties with a direct reply-to (`amq.rabbitmq.reply-to`) replaced by this channel's address. */
  private replyAddressed(props: Buffer): Buffer {
    if (replyToOf(props) !== REPLY_TO) return props;
    if (this.replyConsumer === null) throw soft(ReplyCode.PRECONDITION_FAILED, 'fast reply consumer does not exist');
    return withReplyTo(props, this.replyConsumer.address);
  }

  /** Sends one (possibly multiple) ack covering every confirm decided since the last. */
  flushConfirms(): void {
    this.confirmDirty = false;
    if (this.state !== 'open' || this.confirmUpTo <= this.confirmSent) return;
    const out = this.out;
    out.method(this.id, M.basicAck);
    out.u64(this.confirmUpTo);
    out.u8(this.confirmUpTo - this.confirmSent > 1 ? 1 : 0);
    out.end();
    this.confirmSent = this.confirmUpTo;
  }

  // ---- delivery -----------------------------------------------------------------------

  canDeliverTo(c: ChannelConsumer): boolean {
    if (this.state !== 'open' || !this.conn.writable) return false;
    if (c.noAck) return true;
    if (c.prefetch !== 0 && c.unacked >= c.prefetch) return false;
    return this.channelPrefetch === 0 || this.consumerUnacked < this.channelPrefetch;
  }

  deliver(c: ChannelConsumer, entry: QueuedMessage, queue: Queue): void {
    const tag = ++this.deliveryTag;
    if (!c.noAck) {
      this.unacked.set(tag, { entry, queue, consumer: c });
      c.unacked++;
      this.consumerUnacked++;
      queue.unacked++;
    }
    const out = this.out;
    const msg = entry.msg;
    out.method(this.id, M.basicDeliver);
    out.shortstr(c.tag);
    out.u64(tag);
    out.u8(entry.redelivered ? 1 : 0);
    out.shortstr(msg.exchange);
    out.shortstr(msg.routingKey);
    out.end();
    out.content(this.id, msg.props, msg.body, this.conn.frameMax);
  }

  serverCancel(c: ChannelConsumer): void {
    if (this.consumers.get(c.tag) !== c) return;
    this.consumers.delete(c.tag);
    if (this.state === 'open' && this.conn.cancelNotify) {
      this.out.method(this.id, M.basicCancel);
      this.out.shortstr(c.tag);
      this.out.u8(1);
      this.out.end();
    }
  }

  private qos(prefetchSize: number, prefetchCount: number, global: boolean): void {
    if (prefetchSize !== 0) throw new AmqpError(ReplyCode.NOT_IMPLEMENTED, `prefetch_size!=0 (${prefetchSize})`);
    if (global) this.channelPrefetch = prefetchCount;
    else this.consumerPrefetch = prefetchCount;
    this.emptyMethod(M.basicQosOk);
    if (global) this.drainMine();
  }

  private consume(queueName: string, requestedTag: string, noAck: boolean, exclusive: boolean, nowait: boolean): void {
    if (queueName === REPLY_TO) return this.consumeReplies(requestedTag, noAck, nowait);
    const q = this.queueFor(queueName);
    const tag = requestedTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url')}` : requestedTag;
    if (this.consumers.has(tag) || this.replyConsumer?.tag === tag) throw new AmqpError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
    if (q.exclusiveConsumer || (exclusive && q.consumers.length > 0)) {
      throw soft(ReplyCode.ACCESS_REFUSED, `queue '${q.name}' in vhost '/' in exclusive use`);
    }
    const c = new ChannelConsumer(tag, q, this, noAck, exclusive, this.consumerPrefetch);
    this.consumers.set(tag, c);
    if (!nowait) {
      this.out.method(this.id, M.basicConsumeOk);
      this.out.shortstr(tag);
      this.out.end();
    }
    q.addConsumer(c, Date.now());
  }

  /** basic.consume on the pseudo-queue `amq.rabbitmq.reply-to`: one no-ack consumer per channel, as RabbitMQ allows. */
  private consumeReplies(requestedTag: string, noAck: boolean, nowait: boolean): void {
    if (!noAck) throw soft(ReplyCode.PRECONDITION_FAILED, 'reply consumer cannot acknowledge');
    if (this.replyConsumer !== null) throw soft(ReplyCode.PRECONDITION_FAILED, 'reply consumer already set');
    const tag = requestedTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url')}` : requestedTag;
    if (this.consumers.has(tag)) throw new AmqpError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
    this.replyConsumer = { tag, address: this.vhost.replies.register(this) };
    if (!nowait) {
      this.out.method(this.id, M.basicConsumeOk);
      this.out.shortstr(tag);
      this.out.end();
    }
  }

  /** A reply to this channel's address: delivered at once, no-ack (it never waits in a queue). */
  deliverReply(msg: Message): boolean {
    if (this.state !== 'open' || this.replyConsumer === null) return false;
    const out = this.out;
    out.method(this.id, M.basicDeliver);
    out.shortstr(this.replyConsumer.tag);
    out.u64(++this.deliveryTag);
    out.u8(0);
    out.shortstr(msg.exchange);
    out.shortstr(msg.routingKey);
    out.end();
    out.content(this.id, msg.props, msg.body, this.conn.frameMax);
    return true;
  }

  private releaseReplies(): void {
    if (this.replyConsumer !== null) this.vhost.replies.release(this.replyConsumer.address);
    this.replyConsumer = null;
  }

  private cancel(tag: string, nowait: boolean): void {
    if (this.replyConsumer?.tag === tag) this.releaseReplies();
    const c = this.consumers.get(tag);
    if (c !== undefined) {
      this.consumers.delete(tag);
      c.queue.removeConsumer(c);
    }
    if (!nowait) {
      this.out.method(this.id, M.basicCancelOk);
      this.out.shortstr(tag);
      this.out.end();
    }
  }

  private get(queueName: string, noAck: boolean): void {
    const q = this.queueFor(queueName);
    const entry = q.take(Date.now());
    const out = this.out;
    if (entry === undefined) {
      out.method(this.id, M.basicGetEmpty);
      out.shortstr('');
      out.end();
      return;
    }
    const tag = ++this.deliveryTag;
    if (!noAck) {
      this.unacked.set(tag, { entry, queue: q, consumer: null });
      q.unacked++;
    }
    out.method(this.id, M.basicGetOk);
    out.u64(tag);
    out.u8(entry.redelivered ? 1 : 0);
    out.shortstr(entry.msg.exchange);
    out.shortstr(entry.msg.routingKey);
    out.u32(q.ready.length);
    out.end();
    out.content(this.id, entry.msg.props, entry.msg.body, this.conn.frameMax);
  }

  /** The deliveries an ack/nack/reject refers to, removed from the unacked map. */
  private collect(tag: number, multiple: boolean): Unacked[] {
    if (multiple && tag === 0) {
      const all = [...this.unacked.values()];
      this.unacked.clear();
      return all;
    }
    const one = this.unacked.get(tag);
    if (one === undefined) throw soft(ReplyCode.PRECONDITION_FAILED, `unknown delivery tag ${tag}`);
    if (!multiple) {
      this.unacked.delete(tag);
      return [one];
    }
    const out: Unacked[] = [];
    // Map iteration follows insertion order, which is delivery-tag order.
    for (const [t, u] of this.unacked) {
      if (t > tag) break;
      out.push(u);
      this.unacked.delete(t);
    }
    return out;
  }

  private settle(list: Unacked[], how: 'ack' | 'requeue' | 'dead'): void {
    let single: Queue | null = null;
    let many: Set<Queue> | null = null;
    for (const u of list) {
      u.queue.unacked--;
      if (u.consumer !== null) {
        u.consumer.unacked--;
        this.consumerUnacked--;
        if (single === null) single = u.consumer.queue;
        else if (single !== u.consumer.queue) (many ??= new Set<Queue>()).add(u.consumer.queue);
      }
      if (how === 'dead' && !u.queue.deleted) this.vhost.deadLetter(u.queue, u.entry, 'rejected');
    }
    if (how === 'requeue') this.requeueList(list);
    const now = Date.now();
    if (this.channelPrefetch !== 0) this.drainMine();
    else {
      single?.drain(now);
      if (many !== null) for (const q of many) q.drain(now);
    }
  }

  private requeueList(list: Unacked[]): void {
    const byQueue = new Map<Queue, QueuedMessage[]>();
    for (const u of list) {
      let l = byQueue.get(u.queue);
      if (l === undefined) byQueue.set(u.queue, (l = []));
      l.push(u.entry);
    }
    const now = Date.now();
    for (const [q, entries] of byQueue) q.requeue(entries, now);
  }

  private requeueAll(): void {
    const list = [...this.unacked.values()];
    this.unacked.clear();
    for (const u of list) {
      u.queue.unacked--;
      if (u.consumer !== null) u.consumer.unacked--;
    }
    this.consumerUnacked = 0;
    this.requeueList(list);
  }

  /** The socket drained: deliver what waited for it. */
  resume(): void {
    if (this.state === 'open') this.drainMine();
  }

  private drainMine(): void {
    const now = Date.now();
    for (const c of this.consumers.values()) c.queue.drain(now);
  }

  // ---- exchanges and queues (rules in topology.ts) ------------------------------------

  /** A queue name from a method: '' means the channel's last declared queue (spec). */
  private queueName(requested: string): string {
    return requested === '' ? this.lastQueue : requested;
  }

  private queueFor(requested: string): Queue {
    return topology.existingQueue(this.vhost, this.conn, this.queueName(requested));
  }

  // ---- lifecycle ----------------------------------------------------------------------

  private emptyMethod(id: number): void {
    this.out.method(this.id, id);
    this.out.end();
  }

  private countMethod(id: number, n: number): void {
    this.out.method(this.id, id);
    this.out.u32(n);
    this.out.end();
  }

  sendOpenOk(): void {
    this.out.method(this.id, M.channelOpenOk);
    this.out.u32(0);
    this.out.end();
  }

  /** Soft error: tell the client, drop the channel's state, wait for close-ok. */
  private closeWithError(err: AmqpError): void {
    const out = this.out;
    out.method(this.id, M.channelClose);
    out.u16(err.code);
    out.shortstr(err.replyText);
    out.u16(err.classId);
    out.u16(err.methodId);
    out.end();
    this.abandon();
    this.state = 'closing';
  }

  /**
   * Releases everything the channel holds: consumers are cancelled and unacked deliveries
   * go back to their queues marked redelivered (RabbitMQ semantics on channel close).
   */
  abandon(): void {
    this.state = 'closed';
    this.pub = null;
    this.parts = [];
    this.releaseReplies();
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    this.requeueAll();
    for (const c of consumers) c.queue.removeConsumer(c);
  }
}
