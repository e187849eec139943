import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore, RecordedEvent, Subscription } from '../../event-store/index.js';
import { describeError } from '../../errors.js';
import { context } from '@opentelemetry/api';
import { endSpan, extractTrace, openSpan, withCausation } from '../../tracing/index.js';
import { ProcessorCrashedError } from './repository.js';

/**
 * What a processor does with one event: undefined when the event is not its business,
 * else a task. `alive()` turns false when the processor has crashed since the task began:
 * the task must stop before its next effect (the repository checks it before appending).
 */
/** A handler's answer that it did the event's work at once (nothing to wait for): its span ends here. */
export const HANDLED = 'handled';

/**
 * A handler: a promise of the event's work, `HANDLED` when it did the work synchronously,
 * or undefined when the event is not its business (no span, no slot). `first`: no earlier
 * attempt at this event can have done any of its work — false for a retried attempt and
 * for a redelivery after a crash or a lost subscription, whose work may be done in part.
 */
export type ProcessorHandler = (event: RecordedEvent, alive: () => boolean, first: boolean) => Promise<void> | typeof HANDLED | undefined;

export interface ProcessorOptions {
  readonly name: string;
  /** Tasks in flight at once. Concurrency is what makes a hot stream conflict. */
  readonly concurrency: number;
  /** Attempts per task when it fails with an error (a store hiccup); then it is counted and skipped. Default 5. */
  readonly taskAttempts?: number;
  /** Called for every failed task attempt and every subscription failure. */
  readonly onError: (kind: string, err: unknown) => void;
  /** Called for every event the subscription delivers (wire message count). */
  readonly onDelivered?: () => void;
  /** How long a crashed processor stays down before it resubscribes, ms. Default 0. */
  readonly restartDelayMs?: number;
}

/** Wait before resubscribing after live delivery was lost. */
const SUBSCRIPTION_RETRY_MS = 100;
/** Longest wait between attempts of a task whose store is unreachable, ms. */
const UNAVAILABLE_RETRY_MAX_MS = 200;

/** Socket-level failures (the store was unreachable, not wrong) and injected transient errors: a task that meets one is retried until it lands. */
const UNAVAILABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNCLOSED', 'EPIPE', 'ETIMEDOUT', 'EPROTO', 'ECONNABORTED', 'EUNAVAILABLE']);

export function isStoreUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE.has(code)) return true;
  // node-postgres reports a dropped connection without a code.
  return err instanceof Error && /Connection terminated|connection.*(closed|ended)|not queryable/i.test(err.message);
}

interface Slot {
  readonly position: number;
  done: boolean;
}

/**
 * A subscriber to the global log that runs its tasks concurrently, up to a limit, and
 * keeps a checkpoint it can resume from: the highest position below which every task has
 * finished (a task still running holds the checkpoint back). A crash — abrupt, mid-batch —
 * abandons running tasks and resubscribes from that checkpoint, so unfinished work is
 * redone; the handlers' idempotency absorbs what had already happened.
 */
export class Processor {
  private sub: Subscription | undefined;
  private generation = 0;
  private window: Slot[] = [];
  private running = 0;
  private committed: number;
  private slotFreed: (() => void) | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  /** The highest position delivered so far, and as of the current subscription's start: events up to the latter may be redeliveries. */
  private delivered: number;
  private redeliveredUpTo: number;
  /** Every task still settling, abandoned ones included: stop() waits for them. */
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly store: EventStore,
    private readonly handler: ProcessorHandler,
    private readonly options: ProcessorOptions,
    startAfter = 0,
  ) {
    this.committed = startAfter;
    // What an earlier life did after its checkpoint is unknown here: every event it may have seen counts as a redelivery.
    this.delivered = startAfter > 0 ? Number.POSITIVE_INFINITY : 0;
    this.redeliveredUpTo = this.delivered;
  }

  /** Every event at or below this position has been handled. */
  get checkpoint(): number {
    return this.committed;
  }

  /** Times the processor resubscribed from its checkpoint (after a crash or a lost subscription). */
  get restartCount(): number {
    return this.restarts;
  }

  /** No task is running. */
  get idle(): boolean {
    return this.running === 0;
  }

  start(): void {
    this.subscribe();
  }

  /**
   * Dies abruptly: running tasks are abandoned, and after `restartDelayMs` delivery
   * restarts from the checkpoint. Resolves once it is down.
   */
  async crash(downMs = this.options.restartDelayMs ?? 0): Promise<void> {
    this.generation++;
    const sub = this.sub;
    this.sub = undefined;
    this.window = [];
    this.running = 0;
    this.slotFreed?.();
    this.slotFreed = undefined;
    await sub?.stop();
    this.restartAfter(downMs);
  }

  private restartAfter(delayMs: number): void {
    if (this.stopped || this.restartTimer) return;
    if (delayMs <= 0) return this.restart();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped && !this.sub) this.restart();
    }, delayMs);
  }

  private restart(): void {
    this.restarts++;
    this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.slotFreed?.();
    this.slotFreed = undefined;
    await this.sub?.stop();
    this.sub = undefined;
    // Abandoned tasks stop at their next append; wait so that nothing outlives the pattern.
    await Promise.allSettled([...this.tasks]);
  }

  private subscribe(): void {
    const generation = this.generation;
    this.redeliveredUpTo = this.delivered;
    const sub = this.store.subscribe(this.committed, (event) => this.deliver(event, generation));
    this.sub = sub;
    sub.done.catch((err: unknown) => {
      if (this.stopped || this.sub !== sub) return;
      // Live delivery was lost (e.g. the database connection dropped): resume from the checkpoint.
      this.options.onError('subscription', err);
      this.generation++;
      this.window = [];
      this.running = 0;
      this.sub = undefined;
      this.restartAfter(SUBSCRIPTION_RETRY_MS);
    });
  }

  private deliver(event: RecordedEvent, generation: number): Promise<void> | undefined {
    this.options.onDelivered?.();
    const alive = () => generation === this.generation && !this.stopped;
    const first = event.position > this.redeliveredUpTo;
    this.delivered = Math.max(this.delivered, event.position);
    const task = this.handle(event, alive, first);
    if (task === undefined || task === HANDLED) {
      if (this.window.length === 0) this.committed = event.position;
      else this.window.push({ position: event.position, done: true });
      return undefined;
    }
    const slot: Slot = { position: event.position, done: false };
    this.window.push(slot);
    this.running++;
    const settling = this.settle(task, event, generation, slot);
    this.tasks.add(settling);
    void settling.finally(() => this.tasks.delete(settling));
    if (this.running < this.options.concurrency) return undefined;
    // At the limit: the subscription waits for a slot before delivering the next event.
    return new Promise<void>((resolve) => (this.slotFreed = resolve));
  }

  /** The handler's task, in a span for this processor's part when the event was appended by a traced order. */
  private handle(event: RecordedEvent, alive: () => boolean, first: boolean): ReturnType<ProcessorHandler> {
    const traceparent = event.metadata?.['traceparent'];
    if (typeof traceparent !== 'string') return this.handler(event, alive, first);
    const opened = openSpan(`${this.options.name}: handle ${event.type}`, { service: this.options.name, operation: 'handle', message: event.type }, extractTrace({ traceparent }));
    if (!opened) return this.handler(event, alive, first);
    const task = context.with(withCausation(opened.ctx, `${event.stream}@${event.version}`), () => this.handler(event, alive, first));
    // Not this processor's business: the span is dropped unended (never exported).
    if (task === undefined) return undefined;
    if (task === HANDLED) {
      endSpan(opened.span);
      return HANDLED;
    }
    return task.then(
      () => endSpan(opened.span),
      (err: unknown) => {
        endSpan(opened.span, err);
        throw err;
      },
    );
  }

  private async settle(first: Promise<void>, event: RecordedEvent, generation: number, slot: Slot): Promise<void> {
    const attempts = this.options.taskAttempts ?? 5;
    let task = first;
    for (let attempt = 1, failures = 0; ; attempt++) {
      try {
        await task;
        break;
      } catch (err) {
        if (err instanceof ProcessorCrashedError || generation !== this.generation) return;
        this.options.onError(describeError(err).code, err);
        // An unreachable store is an outage to wait out, never a reason to skip the work.
        const unavailable = isStoreUnavailable(err);
        if (!unavailable && ++failures >= attempts) break; // counted; the order it belonged to will show as stuck
        await sleep(unavailable ? Math.min(UNAVAILABLE_RETRY_MAX_MS, 10 * attempt) : 10 * attempt);
        if (this.stopped) return;
        if (generation !== this.generation) return;
        const retry = this.handler(event, () => generation === this.generation && !this.stopped, false);
        if (retry === undefined || retry === HANDLED) break;
        task = retry;
      }
    }
    if (generation !== this.generation) return;
    slot.done = true;
    this.running--;
    while (this.window.length > 0 && (this.window[0] as Slot).done) this.committed = (this.window.shift() as Slot).position;
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
  }
}
