import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import { extractTrace, injectTrace, isTracing, withSpan } from '../tracing/index.js';
import type { WireMeter } from '../wire/meter.js';

/** One consumer an endpoint keeps alive across reconnects. */
export interface ConsumerSpec {
  readonly queue: string;
  /** Unacked deliveries the broker may push to this consumer (basic.qos). */
  readonly prefetch: number;
  /**
   * `manual` (default): the handler settles, then the message is acked — at-least-once.
   * `auto`: noAck, the broker forgets a message as soon as it sends it — at-most-once.
   */
  readonly ack?: 'manual' | 'auto';
  /**
   * Handle one delivery. Resolves when its effects are durable (its own publishes
   * confirmed): only then is the message acked. Throwing dead-letters the message.
   */
  readonly handle: (msg: ConsumeMessage) => Promise<void>;
}

export interface EndpointOptions {
  /** Name for errors and the report, e.g. `inventory`. */
  readonly name: string;
  readonly url: string;
  /** Declare exchanges, queues and bindings; run after every (re)connect. Must be idempotent. */
  readonly topology: (ch: Channel) => Promise<void>;
  readonly consumers: readonly ConsumerSpec[];
  /** Counts bytes at this endpoint's sockets (each byte between it and the broker once). */
  readonly meter?: WireMeter;
  /** Called when a handler throws (the message is dead-lettered) or a publish is retried. */
  readonly onError?: (kind: string, err: unknown) => void;
}

interface Outstanding {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  /** AMQP headers: the `traceparent` of a traced publish, else none. */
  readonly headers: Record<string, string> | undefined;
  /** Generation of the channel it was last sent on; -1 = not sent yet. */
  generation: number;
  /** performance.now() of the last send. */
  sentAt: number;
  resolve(): void;
  reject(err: Error): void;
}

/** A publish that a crash took with it. */
export class EndpointCrashedError extends Error {
  readonly code = 'PB_ERR_ENDPOINT_CRASHED';
  constructor(name: string) {
    super(`${name}: crashed before the broker confirmed the message`);
    this.name = 'EndpointCrashedError';
  }
}

export class EndpointStoppedError extends Error {
  readonly code = 'PB_ERR_ENDPOINT_STOPPED';
  constructor(name: string) {
    super(`${name}: the endpoint was stopped`);
    this.name = 'EndpointStoppedError';
  }
}

/**
 * An AMQP client endpoint (one service's connection) that survives broker connection
 * loss: amqplib's opt-in recovery reconnects; after every connect the endpoint
 * re-declares its topology, re-opens its confirm channel, resumes its consumers, and
 * republishes every message the broker had not confirmed. Duplicates that this causes
 * are the consumers' to absorb (they are idempotent by orderId).
 */
export class AmqpEndpoint {
  private model: RecoveringChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private consumerChannel: Channel | undefined;
  private generation = 0;
  private readonly outstanding = new Set<Outstanding>();
  private inFlightHandlers = 0;
  private stopped = false;
  private published = 0;
  private delivered = 0;
  private currentSocket: Socket | undefined;
  /** Times this endpoint connected (1 + reconnects). */
  connects = 0;
  serverProduct = '';
  serverVersion = '';

  constructor(private readonly options: EndpointOptions) {}

  /**
   * The last line of at-least-once: a message unconfirmed for this long is sent again,
   * whatever happened to it (a confirm lost with a connection, a channel that died quietly).
   */
  private static readonly REPUBLISH_AFTER_MS = 1000;
  private republisher: NodeJS.Timeout | undefined;

  async start(): Promise<void> {
    const { options } = this;
    this.republisher = setInterval(() => {
      const stale = performance.now() - AmqpEndpoint.REPUBLISH_AFTER_MS;
      for (const entry of this.outstanding) if (entry.sentAt < stale) this.send(entry);
    }, AmqpEndpoint.REPUBLISH_AFTER_MS / 2);
    this.model = await connect(options.url, {
      noDelay: true,
      recovery: {
        initialDelay: 50,
        maxDelay: 1000,
        // The first connection fails fast (an unreachable broker is a clear error);
        // once connected, keep reconnecting until stopped.
        initialMaxRetries: 0,
        maxRetries: Number.POSITIVE_INFINITY,
        setup: (model: ChannelModel) => this.setup(model),
      },
    });
    this.model.on('error', (err: Error) => options.onError?.('connection', err));
    this.model.on('disconnect', () => {
      this.publisher = undefined;
      this.consumerChannel = undefined;
    });
  }

  /**
   * After every connect. amqplib (2.3.1) attaches its own 'error' listener to a recovered
   * connection only once setup has resolved, so a reset while setup runs (a reconnect into
   * a fault that is still on, or a crashed service's downtime) would be an uncaught error:
   * the connection's errors are ours until then — and, when setup fails and amqplib closes
   * that connection, for good.
   */
  private async setup(model: ChannelModel): Promise<void> {
    const early = (err: Error) => this.options.onError?.('connection', err);
    model.on('error', early);
    try {
      await this.setupOn(model);
      model.removeListener('error', early);
    } catch (err) {
      model.removeListener('error', early);
      model.on('error', () => undefined);
      throw err;
    }
  }

  private async setupOn(model: ChannelModel): Promise<void> {
    // A crashed service comes back only after its downtime: connected, but not consuming or publishing.
    const down = this.downUntil - performance.now();
    if (down > 0 && !this.stopped) {
      await new Promise<void>((resolve) => {
        this.downWake = resolve;
        this.downTimer = setTimeout(resolve, down);
      });
      this.downTimer = undefined;
      this.downWake = undefined;
    }
    if (this.stopped) return;
    // Until this connection's confirm channel is open, publishes wait in `outstanding`
    // (with their old generation) and are sent at the end of setup — never on a dead channel.
    this.publisher = undefined;
    this.consumerChannel = undefined;
    const generation = ++this.generation;
    this.connects++;
    const props = model.connection.serverProperties;
    this.serverProduct = String(props.product ?? 'unknown broker');
    this.serverVersion = String(props.version ?? '');
    const socket = (model.connection as unknown as { stream?: Socket }).stream;
    if (socket && typeof socket.setNoDelay === 'function') {
      this.currentSocket = socket;
      this.options.meter?.attach(socket);
    }

    const publisher = await model.createConfirmChannel();
    publisher.on('error', (err: Error) => this.options.onError?.('publisher-channel', err));
    await this.options.topology(publisher);
    this.publisher = publisher;

    if (this.options.consumers.length > 0) {
      const ch = await model.createChannel();
      ch.on('error', (err: Error) => this.options.onError?.('consumer-channel', err));
      for (const spec of this.options.consumers) {
        const manual = (spec.ack ?? 'manual') === 'manual';
        if (manual) await ch.prefetch(spec.prefetch, false);
        await ch.consume(spec.queue, (msg) => this.deliver(ch, spec, msg), { noAck: !manual });
      }
      this.consumerChannel = ch;
    }

    // Everything not confirmed on an earlier channel is sent again.
    for (const entry of this.outstanding) if (entry.generation < generation) this.send(entry);
  }

  private deliver(ch: Channel, spec: ConsumerSpec, msg: ConsumeMessage | null): void {
    if (!msg) return; // consumer cancelled by the broker (queue deleted)
    this.delivered++;
    this.inFlightHandlers++;
    const manual = (spec.ack ?? 'manual') === 'manual';
    const headers = msg.properties.headers as Record<string, unknown> | undefined;
    const handled =
      headers?.['traceparent'] === undefined
        ? spec.handle(msg)
        : withSpan(
            `${this.options.name}: consume ${msg.fields.routingKey}`,
            { service: this.options.name, operation: 'consume', message: msg.fields.routingKey, bytes: msg.content.length },
            () => spec.handle(msg),
            extractTrace(headers),
          );
    handled.then(
      () => {
        this.inFlightHandlers--;
        // A channel that died meanwhile cannot ack: the broker redelivers the message.
        if (manual && ch === this.consumerChannel) safely(() => ch.ack(msg));
      },
      (err: unknown) => {
        this.inFlightHandlers--;
        this.options.onError?.('handler', err);
        if (err instanceof EndpointStoppedError || err instanceof EndpointCrashedError) return;
        // A transient failure puts the message back for another try; anything else is poison: to the dead-letter queue.
        const requeue = (err as { requeue?: unknown } | null)?.requeue === true;
        if (manual && ch === this.consumerChannel) safely(() => ch.nack(msg, false, requeue));
      },
    );
  }

  /**
   * Publish a persistent message; resolves when the broker confirms it. Survives
   * reconnects: a message not yet confirmed is sent again on the next connection.
   */
  publish(exchange: string, routingKey: string, body: Buffer): Promise<void> {
    if (this.stopped) return Promise.reject(new EndpointStoppedError(this.options.name));
    if (!isTracing()) return this.enqueue(exchange, routingKey, body, undefined);
    // A traced publish is the broker's hop: its span is the parent of the consumers' spans.
    return withSpan(
      `broker: publish ${routingKey}`,
      { service: 'broker', operation: 'publish', message: routingKey, bytes: body.length },
      () => this.enqueue(exchange, routingKey, body, injectTrace({})),
    );
  }

  private enqueue(exchange: string, routingKey: string, body: Buffer, headers: Record<string, string> | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Outstanding = { exchange, routingKey, body, headers, generation: -1, sentAt: 0, resolve, reject };
      this.outstanding.add(entry);
      // A pending crash strikes here: the effect is done, its announcement not yet sent.
      if (this.crashRequest) this.crashRequest();
      else this.send(entry);
    });
  }

  private send(entry: Outstanding): void {
    const ch = this.publisher;
    if (!ch) return; // not connected: setup() sends it
    const generation = this.generation;
    entry.generation = generation;
    entry.sentAt = performance.now();
    this.published++;
    try {
      const options = entry.headers ? { persistent: true, contentType: 'application/json', headers: entry.headers } : { persistent: true, contentType: 'application/json' };
      ch.publish(entry.exchange, entry.routingKey, entry.body, options, (err: unknown) => {
        if (!this.outstanding.has(entry)) return;
        if (!err) {
          this.outstanding.delete(entry);
          entry.resolve();
          return;
        }
        if (generation !== this.generation || ch !== this.publisher) return; // the channel died; setup() resends it
        // The broker nacked it (could not take it): try again shortly.
        this.options.onError?.('publish-nacked', err);
        const timer = setTimeout(() => {
          if (!this.stopped && this.outstanding.has(entry) && entry.generation === generation) this.send(entry);
        }, 20);
        timer.unref();
      });
    } catch (err) {
      // The channel closed under us; setup() after the reconnect sends it.
      this.options.onError?.('publish', err);
    }
  }

  /**
   * Answer a request (request–reply): publish `body` to the default exchange with the
   * request's reply-to as routing key and its correlation id. Fire and forget, not
   * persistent: a reply lost with a connection is the requester's timeout. False when
   * not connected.
   */
  reply(replyTo: string, correlationId: string, body: Buffer): boolean {
    const ch = this.publisher;
    if (!ch || this.stopped) return false;
    try {
      ch.publish('', replyTo, body, { correlationId, contentType: 'application/json' }, () => undefined);
      return true;
    } catch (err) {
      this.options.onError?.('reply', err);
      return false;
    }
  }

  /** Messages this endpoint published (retries included) and received. */
  counts(): { published: number; delivered: number } {
    return { published: this.published, delivered: this.delivered };
  }

  /** Nothing waiting for a confirm and no handler running. */
  get idle(): boolean {
    return this.outstanding.size === 0 && this.inFlightHandlers === 0;
  }

  /** A channel for management calls (checkQueue, deleteQueue) on the current connection. */
  async channel(): Promise<Channel> {
    if (!this.model) throw new Error(`${this.options.name}: not started`);
    return this.model.createChannel();
  }

  private crashRequest: (() => void) | undefined;
  /** performance.now() until which a crashed endpoint stays down, and the downtime of the crash to come. */
  private downUntil = 0;
  private downMs = 0;
  private downTimer: NodeJS.Timeout | undefined;
  private downWake: (() => void) | undefined;

  /**
   * Crash as a process would mid-batch: at the worst moment — a handler has done its work
   * and is about to publish its result (or after 250 ms, for a service that publishes
   * nothing) — the socket is destroyed and what was not confirmed is forgotten.
   * With manual acks the broker redelivers the unacked input and the work is done again,
   * absorbed by the idempotent services; with auto acks that work is lost. The endpoint
   * comes back (consumes and publishes again) `downMs` after it died.
   * Resolves once the socket is dead.
   */
  crash(downMs = 0): Promise<void> {
    if (this.crashRequest) return Promise.resolve();
    this.downMs = downMs;
    if (!this.consumerChannel) {
      this.crashNow();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.crashRequest?.(), 250);
      this.crashRequest = () => {
        clearTimeout(timer);
        this.crashRequest = undefined;
        this.crashNow();
        resolve();
      };
    });
  }

  private crashNow(): void {
    // The downtime counts from the death, not from the request.
    this.downUntil = performance.now() + this.downMs;
    this.consumerChannel = undefined;
    this.publisher = undefined;
    // A dead process forgets what it had not yet handed to the broker: its unconfirmed
    // publishes fail (a handler waiting on one gives up; its input is redelivered only
    // if it was not acked yet — with auto acks, that work is lost).
    for (const entry of this.outstanding) entry.reject(new EndpointCrashedError(this.options.name));
    this.outstanding.clear();
    // amqplib notices a dead socket by its 'error' or 'end', not by 'close'.
    this.currentSocket?.destroy(Object.assign(new Error(`${this.options.name}: connection killed (crash)`), { code: 'PB_CRASH' }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.republisher);
    clearTimeout(this.downTimer);
    this.downWake?.();
    this.crashRequest?.();
    for (const entry of this.outstanding) entry.reject(new EndpointStoppedError(this.options.name));
    this.outstanding.clear();
    this.consumerChannel = undefined;
    this.publisher = undefined;
    const model = this.model;
    this.model = undefined;
    if (!model) return;
    // A broker that stopped answering must not hold stop() forever.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 2000)));
    const result = await Promise.race([model.close().then(() => 'closed' as const, () => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') this.currentSocket?.destroy();
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // The channel closed between the check and the call; the broker redelivers.
  }
}
