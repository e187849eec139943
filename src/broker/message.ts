/**
 * A published message. `props` is the raw property-flags + property-list of the content
 * header, passed through untouched (decoded only for dead-lettering); `body` may be a view
 * into the received socket chunk.
 */
export interface Message {
  readonly exchange: string;
  readonly routingKey: string;
  readonly props: Buffer;
  readonly body: Buffer;
  /** Per-message TTL from the `expiration` property, ms; undefined when absent. */
  readonly ttl: number | undefined;
}

/** A message's life in one queue (a message routed to two queues has two entries). */
export interface QueuedMessage {
  readonly msg: Message;
  redelivered: boolean;
  /** Epoch ms after which the message is dead; 0 = never. */
  readonly expiresAt: number;
}
