import type { Channel } from 'amqplib';

/** A broker topology as data: a topic exchange, consumer queues with their routing keys, dead letters. */
export interface Topology {
  readonly exchange: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  /** Queue name → the routing keys bound to it. */
  readonly queues: Readonly<Record<string, readonly string[]>>;
}

/**
 * Name everything under `pb.<runId>.<pattern>.`, so that runs and tests sharing one
 * RabbitMQ never meet. `bindings` maps a consumer (service) to its routing keys; its
 * queue is `<prefix><service>`.
 */
export function makeTopology(pattern: string, runId: string, bindings: Readonly<Record<string, readonly string[]>>): Topology {
  const p = `pb.${runId}.${pattern}.`;
  const queues: Record<string, readonly string[]> = {};
  for (const [service, keys] of Object.entries(bindings)) queues[`${p}${service}`] = keys;
  return { exchange: `${p}events`, deadLetterExchange: `${p}dlx`, deadLetterQueue: `${p}dead-letters`, queues };
}

export const queueOf = (t: Topology, service: string): string => `${t.exchange.slice(0, -'events'.length)}${service}`;

/**
 * Declare the whole topology: a durable topic exchange, one durable queue per consumer
 * with the dead-letter exchange set, and a dead-letter queue for poison messages.
 * Idempotent: every endpoint runs it after every (re)connect.
 */
export async function declareTopology(ch: Channel, t: Topology): Promise<void> {
  await ch.assertExchange(t.exchange, 'topic', { durable: true });
  await ch.assertExchange(t.deadLetterExchange, 'fanout', { durable: true });
  await ch.assertQueue(t.deadLetterQueue, { durable: true });
  await ch.bindQueue(t.deadLetterQueue, t.deadLetterExchange, '');
  for (const [queue, keys] of Object.entries(t.queues)) {
    await ch.assertQueue(queue, { durable: true, deadLetterExchange: t.deadLetterExchange });
    for (const key of keys) await ch.bindQueue(queue, t.exchange, key);
  }
}

/** Delete what `declareTopology` made (durable objects outlive the run otherwise). */
export async function deleteTopology(ch: Channel, t: Topology): Promise<void> {
  for (const queue of [...Object.keys(t.queues), t.deadLetterQueue]) await ch.deleteQueue(queue);
  await ch.deleteExchange(t.exchange);
  await ch.deleteExchange(t.deadLetterExchange);
}
