import { type QueuedMessage } from './message.js';
import { type Consumer, type Queue } from './queue.js';

/** The part of a channel a consumer talks to. */
export interface ConsumerChannel {
  canDeliverTo(c: ChannelConsumer): boolean;
  deliver(c: ChannelConsumer, entry: QueuedMessage, queue: Queue): void;
  serverCancel(c: ChannelConsumer): void;
}

/** A basic.consume subscription: one queue, one channel, its own prefetch credit. */
export class ChannelConsumer implements Consumer {
  /** Deliveries not yet acked (counts against `prefetch`). */
  unacked = 0;

  constructor(
    readonly tag: string,
    readonly queue: Queue,
    private readonly channel: ConsumerChannel,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** Per-consumer limit (basic.qos global=false at consume time); 0 = unlimited. */
    readonly prefetch: number,
  ) {}

  canTake(): boolean {
    return this.channel.canDeliverTo(this);
  }

  deliver(entry: QueuedMessage, queue: Queue): void {
    this.channel.deliver(this, entry, queue);
  }

  cancelledByServer(): void {
    this.channel.serverCancel(this);
  }
}
