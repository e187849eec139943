import { randomBytes } from 'node:crypto';
import { AmqpError } from './amqp-error.js';
import { ReplyCode } from './constants.js';
import { Exchange, isExchangeType } from './exchange.js';
import { type FieldTable } from './field-table.js';
import { checkHeadersBinding } from './headers-match.js';
import { Queue } from './queue.js';
import { EQUIVALENCE_ARGS, argText, parseQueueArgs } from './queue-args.js';
import { type VirtualHost } from './vhost.js';

/**
 * Declaring, binding and deleting exchanges and queues with RabbitMQ's rules and reply
 * texts (checked against RabbitMQ 3.10). `owner` is the calling connection, which is
 * what exclusive queues are tied to. Everything here throws AmqpError.
 */

const NOT_DEFAULT = 'operation not permitted on the default exchange';
const SYSTEM_EXCHANGES = new Set(['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']);

function soft(code: number, text: string): AmqpError {
  return new AmqpError(code, text);
}

function inequivalent(what: string, arg: string, received: unknown, current: unknown): AmqpError {
  return soft(ReplyCode.PRECONDITION_FAILED, `inequivalent arg '${arg}' for ${what} in vhost '/': received '${String(received)}' but current is '${String(current)}'`);
}

export interface ExchangeFlags {
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
}

export function declareExchange(vhost: VirtualHost, name: string, type: string, f: ExchangeFlags, args: FieldTable): void {
  if (name === '') throw soft(ReplyCode.ACCESS_REFUSED, NOT_DEFAULT);
  const x = vhost.exchanges.get(name);
  if (f.passive) {
    if (x === undefined) throw soft(ReplyCode.NOT_FOUND, `no exchange '${name}' in vhost '/'`);
    return;
  }
  if (!isExchangeType(type)) throw new AmqpError(ReplyCode.COMMAND_INVALID, `unknown exchange type '${type}'`);
  if (x === undefined) {
    if (name.startsWith('amq.')) throw soft(ReplyCode.ACCESS_REFUSED, `exchange name '${name}' contains reserved prefix 'amq.*'`);
    vhost.exchanges.set(name, new Exchange(name, type, f.durable, f.autoDelete, f.internal, args));
    return;
  }
  const what = `exchange '${name}'`;
  if (x.type !== type) throw inequivalent(what, 'type', type, x.type);
  if (x.durable !== f.durable) throw inequivalent(what, 'durable', f.durable, x.durable);
  if (x.autoDelete !== f.autoDelete) throw inequivalent(what, 'auto_delete', f.autoDelete, x.autoDelete);
  if (x.internal !== f.internal) throw inequivalent(what, 'internal', f.internal, x.internal);
}

/** exchange.delete: a missing exchange is fine (RabbitMQ is idempotent here). */
export function deleteExchange(vhost: VirtualHost, name: string, ifUnused: boolean): void {
  if (name === '') throw soft(ReplyCode.ACCESS_REFUSED, NOT_DEFAULT);
  if (SYSTEM_EXCHANGES.has(name)) throw soft(ReplyCode.ACCESS_REFUSED, `deletion of system exchange '${name}' in vhost '/' not allowed`);
  const x = vhost.exchanges.get(name);
  if (x === undefined) return;
  if (ifUnused && x.bindings.length > 0) throw soft(ReplyCode.PRECONDITION_FAILED, `exchange '${name}' in vhost '/' in use`);
  vhost.deleteExchange(x);
}

export function existingExchange(vhost: VirtualHost, name: string): Exchange {
  const x = vhost.exchanges.get(name);
  if (x === undefined) throw soft(ReplyCode.NOT_FOUND, `no exchange '${name}' in vhost '/'`);
  return x;
}

function locked(q: Queue): AmqpError {
  return soft(
    ReplyCode.RESOURCE_LOCKED,
    `cannot obtain exclusive access to locked queue '${q.name}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
  );
}

export function checkExclusive(q: Queue, owner: object): void {
  if (q.owner !== null && q.owner !== owner) throw locked(q);
}

/** The queue a method names: 404 when missing, 405 when another connection's exclusive. */
export function existingQueue(vhost: VirtualHost, owner: object, name: string): Queue {
  const q = vhost.queues.get(name);
  if (q === undefined) throw soft(ReplyCode.NOT_FOUND, `no queue '${name}' in vhost '/'`);
  checkExclusive(q, owner);
  return q;
}

export interface QueueFlags {
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
}

/** queue.declare; an empty name gets a server-generated `amq.gen-…` one. */
export function declareQueue(vhost: VirtualHost, owner: object, requested: string, f: QueueFlags, args: FieldTable): Queue {
  if (f.passive) return existingQueue(vhost, owner, requested);
  const name = requested === '' ? `amq.gen-${randomBytes(16).toString('base64url')}` : requested;
  const found = vhost.queues.get(name);
  if (found === undefined) {
    if (requested.startsWith('amq.')) throw soft(ReplyCode.ACCESS_REFUSED, `queue name '${name}' contains reserved prefix 'amq.*'`);
    const q = new Queue(name, f.durable, f.autoDelete, f.exclusive ? owner : null, args, parseQueueArgs(name, args), vhost);
    vhost.queues.set(name, q);
    return q;
  }
  checkExclusive(found, owner);
  if (f.exclusive && found.owner === null) throw locked(found);
  const what = `queue '${name}'`;
  if (found.durable !== f.durable) throw inequivalent(what, 'durable', f.durable, found.durable);
  if (found.autoDelete !== f.autoDelete) throw inequivalent(what, 'auto_delete', f.autoDelete, found.autoDelete);
  for (const key of EQUIVALENCE_ARGS) {
    const now = argText(args[key]);
    const was = argText(found.args[key]);
    if (now !== was) throw inequivalent(what, key, now, was);
  }
  return found;
}

/** queue.bind (`bind`) or queue.unbind; unbinding something missing is fine, as in RabbitMQ. */
export function bindQueue(vhost: VirtualHost, owner: object, bind: boolean, queue: string, exchange: string, routingKey: string, args: FieldTable): void {
  if (exchange === '') throw soft(ReplyCode.ACCESS_REFUSED, NOT_DEFAULT);
  if (bind) {
    const q = existingQueue(vhost, owner, queue);
    const x = existingExchange(vhost, exchange);
    if (x.type === 'headers') checkHeadersBinding(args);
    x.bind(q, routingKey, args);
    return;
  }
  const q = vhost.queues.get(queue);
  const x = vhost.exchanges.get(exchange);
  if (q === undefined || x === undefined) return;
  checkExclusive(q, owner);
  x.unbind(q, routingKey, args);
  if (x.shouldAutoDelete) vhost.deleteExchange(x);
}

/** exchange.bind / exchange.unbind: messages flow from `source` to `destination`. */
export function bindExchange(vhost: VirtualHost, bind: boolean, destination: string, source: string, routingKey: string, args: FieldTable): void {
  if (destination === '' || source === '') throw soft(ReplyCode.ACCESS_REFUSED, NOT_DEFAULT);
  if (bind) {
    const d = existingExchange(vhost, destination);
    const s = existingExchange(vhost, source);
    if (s.type === 'headers') checkHeadersBinding(args);
    s.bind(d, routingKey, args);
    return;
  }
  const d = vhost.exchanges.get(destination);
  const s = vhost.exchanges.get(source);
  if (d === undefined || s === undefined) return;
  s.unbind(d, routingKey, args);
  if (s.shouldAutoDelete) vhost.deleteExchange(s);
}

/** queue.delete; returns the number of ready messages dropped (0 for a missing queue). */
export function deleteQueue(vhost: VirtualHost, owner: object, name: string, ifUnused: boolean, ifEmpty: boolean): number {
  const q = vhost.queues.get(name);
  if (q === undefined) return 0;
  checkExclusive(q, owner);
  if (ifUnused && q.consumers.length > 0) throw soft(ReplyCode.PRECONDITION_FAILED, `queue '${q.name}' in vhost '/' in use`);
  if (ifEmpty && q.ready.length > 0) throw soft(ReplyCode.PRECONDITION_FAILED, `queue '${q.name}' in vhost '/' is not empty`);
  return vhost.deleteQueue(q);
}
