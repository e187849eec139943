import { type FieldTable } from './field-table.js';
import { headersMatch } from './headers-match.js';
import { type Queue } from './queue.js';
import { topicMatches } from './topic.js';

export const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

export function isExchangeType(t: string): t is ExchangeType {
  return (EXCHANGE_TYPES as readonly string[]).includes(t);
}

/** A binding from this exchange to a queue or (exchange.bind) to another exchange. */
export interface Binding {
  readonly destination: Queue | Exchange;
  readonly routingKey: string;
  readonly args: FieldTable;
}

const ROUTE_CACHE_LIMIT = 4096;

function sameArgs(a: FieldTable, b: FieldTable): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * An exchange and its bindings. Routing results are cached per routing key while the
 * result cannot depend on message headers (no headers exchange reachable).
 */
export class Exchange {
  readonly bindings: Binding[] = [];
  /** Exchanges that have a binding to this one (for cleanup on delete). */
  readonly boundTo = new Set<Exchange>();
  private readonly cache = new Map<string, Queue[]>();
  /** Auto-delete only triggers after the exchange has had a binding. */
  private hadBinding = false;

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: FieldTable,
  ) {}

  /**
   * Queues a message with this routing key reaches, following exchange-to-exchange
   * bindings (each exchange visited once). `headers` is called only when a headers
   * exchange needs the message's headers.
   */
  route(routingKey: string, headers: () => FieldTable): Queue[] {
    const hit = this.cache.get(routingKey);
    if (hit !== undefined) return hit;
    const out: Queue[] = [];
    const cacheable = this.collect(routingKey, headers, out, new Set<Exchange>());
    if (cacheable) {
      if (this.cache.size >= ROUTE_CACHE_LIMIT) this.cache.clear();
      this.cache.set(routingKey, out);
    }
    return out;
  }

  /** Appends matching queues; returns false when the result depended on headers. */
  private collect(routingKey: string, headers: () => FieldTable, out: Queue[], seen: Set<Exchange>): boolean {
    seen.add(this);
    let cacheable = this.type !== 'headers';
    for (const b of this.bindings) {
      if (!this.matches(b, routingKey, headers)) continue;
      const d = b.destination;
      if (d instanceof Exchange) {
        cacheable = false;
        if (!seen.has(d)) d.collect(routingKey, headers, out, seen);
      } else if (!out.includes(d)) out.push(d);
    }
    return cacheable;
  }

  private matches(b: Binding, routingKey: string, headers: () => FieldTable): boolean {
    switch (this.type) {
      case 'fanout':
        return true;
      case 'direct':
        return b.routingKey === routingKey;
      case 'topic':
        return topicMatches(b.routingKey, routingKey);
      case 'headers':
        return headersMatch(b.args, headers());
    }
  }

  /** Adds a binding; the same (destination, key, args) twice is a no-op as in RabbitMQ. */
  bind(destination: Queue | Exchange, routingKey: string, args: FieldTable): void {
    this.hadBinding = true;
    if (this.bindings.some((b) => b.destination === destination && b.routingKey === routingKey && sameArgs(b.args, args))) return;
    this.bindings.push({ destination, routingKey, args });
    destination.boundTo.add(this);
    this.cache.clear();
  }

  unbind(destination: Queue | Exchange, routingKey: string, args: FieldTable): void {
    const i = this.bindings.findIndex((b) => b.destination === destination && b.routingKey === routingKey && sameArgs(b.args, args));
    if (i < 0) return;
    this.bindings.splice(i, 1);
    if (!this.bindings.some((b) => b.destination === destination)) destination.boundTo.delete(this);
    this.cache.clear();
  }

  /** Drops every binding to `destination` (a deleted queue or exchange). */
  removeDestination(destination: Queue | Exchange): void {
    for (let i = this.bindings.length - 1; i >= 0; i--) if (this.bindings[i]?.destination === destination) this.bindings.splice(i, 1);
    this.cache.clear();
  }

  /** Any cached route may now be stale (an exchange downstream changed). */
  invalidate(): void {
    this.cache.clear();
  }

  /** True when an auto-delete exchange lost its last binding and must go. */
  get shouldAutoDelete(): boolean {
    return this.autoDelete && this.hadBinding && this.bindings.length === 0;
  }
}
