import { randomBytes } from 'node:crypto';
import { type Message } from './message.js';

/**
 * RabbitMQ's direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to): a requester
 * consumes the pseudo-queue `amq.rabbitmq.reply-to` (no-ack) and publishes with that
 * reply-to; the broker rewrites it to `amq.rabbitmq.reply-to.<token>`, and a publish to
 * the default exchange with that routing key goes straight to the requester's consumer —
 * no queue in between. A reply whose channel is gone is dropped.
 */
export const REPLY_TO = 'amq.rabbitmq.reply-to';
const PREFIX = `${REPLY_TO}.`;

/** The channel end of a reply consumer. False when the channel can no longer deliver. */
export interface ReplyTarget {
  deliverReply(msg: Message): boolean;
}

/** The vhost's reply addresses, each naming one channel's reply consumer. */
export class ReplyAddresses {
  private readonly targets = new Map<string, ReplyTarget>();

  /** A fresh address for a channel's reply consumer. */
  register(target: ReplyTarget): string {
    const address = `${PREFIX}${randomBytes(16).toString('base64url')}`;
    this.targets.set(address, target);
    return address;
  }

  release(address: string): void {
    this.targets.delete(address);
  }

  /** A routing key of the default exchange that names a reply address. */
  static isAddress(routingKey: string): boolean {
    return routingKey.startsWith(PREFIX);
  }

  /** Delivers a reply to its consumer; false (dropped) when the address names no live consumer. */
  deliver(msg: Message): boolean {
    return this.targets.get(msg.routingKey)?.deliverReply(msg) ?? false;
  }
}
