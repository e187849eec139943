import { extractTrace, withSpan } from '../../tracing/index.js';
import { performance } from 'node:perf_hooks';
import type { EventStore, RecordedEvent, Subscription } from '../../event-store/index.js';
import { LatencyHistogram } from '../../metrics/histogram.js';
import type { OrdersReadModel } from './read-model.js';

export interface ProjectionOptions {
  /** Save the checkpoint every this many events (and when caught up). Default 32. */
  readonly checkpointEvery?: number;
  readonly onError?: (kind: string, err: unknown) => void;
  readonly onDelivered?: () => void;
  /** How long a crashed projection stays down before it restarts, ms. Default 0. */
  readonly restartDelayMs?: number;
  /**
   * Holds each event this long before applying it, ms (in log order): a projection that
   * lags on purpose, so a test can read the read model before it has caught up. Default 0
   * (applied as it arrives).
   */
  readonly applyDelayMs?: number;
}

/**
 * Builds the orders read model from the log. The checkpoint is saved every
 * `checkpointEvery` events, as a projection that stores it beside its rows would (saving
 * it with every row costs a write per event); so after a crash the events since the last
 * saved checkpoint come again, and the read model absorbs them by stream version.
 */
export class OrdersProjection {
  readonly lag = new LatencyHistogram();
  private sub: Subscription | undefined;
  private savedCheckpoint: number;
  private lastApplied: number;
  private sinceSave = 0;
  private stopped = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly checkpointEvery: number;
  private readonly applyDelayMs: number;
  /** Which subscription is live: a held event of a dead one (crashed, stopped) is dropped, as its unsaved progress is. */
  private generation = 0;

  constructor(
    private readonly store: EventStore,
    readonly readModel: OrdersReadModel,
    private readonly options: ProjectionOptions = {},
    startAfter = 0,
  ) {
    this.savedCheckpoint = startAfter;
    this.lastApplied = startAfter;
    this.checkpointEvery = options.checkpointEvery ?? 32;
    this.applyDelayMs = options.applyDelayMs ?? 0;
  }

  /** Position of the last event handled (applied or skipped). */
  get position(): number {
    return this.lastApplied;
  }

  /** The checkpoint a restart resumes from. */
  get checkpoint(): number {
    return this.savedCheckpoint;
  }

  /** Times the projection was restarted (crash or lost subscription). */
  get restartCount(): number {
    return this.restarts;
  }

  start(): Subscription {
    const generation = ++this.generation;
    const deliver = this.applyDelayMs > 0 ? (event: RecordedEvent) => this.handleLater(generation, event) : (event: RecordedEvent) => this.handle(event);
    const sub = this.store.subscribe(this.savedCheckpoint, deliver);
    this.sub = sub;
    this.lastApplied = this.savedCheckpoint;
    void sub.caughtUp.then(() => this.save(), () => undefined);
    sub.done.catch((err: unknown) => {
      if (this.stopped || this.sub !== sub) return;
      this.options.onError?.('subscription', err);
      this.sub = undefined;
      this.restartAfter(100);
    });
    return sub;
  }

  /**
   * Dies abruptly (the unsaved part of its progress is lost) and, after `restartDelayMs`,
   * restarts from the saved checkpoint. Resolves once it is down.
   */
  async crash(downMs = this.options.restartDelayMs ?? 0): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    this.generation++;
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

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.sub?.stop();
    this.sub = undefined;
  }

  private restart(): void {
    this.restarts++;
    this.sinceSave = 0;
    this.start();
  }

  /** Same-duration timers fire in the order they were set, so held events still apply in log order. */
  private handleLater(generation: number, event: RecordedEvent): void {
    setTimeout(() => {
      if (generation === this.generation) this.handle(event);
    }, this.applyDelayMs);
  }

  private handle(event: RecordedEvent): void {
    const traceparent = event.metadata?.['traceparent'];
    // A traced order's event: the read model's part in a span of its own.
    if (typeof traceparent === 'string') withSpan(`projection: apply ${event.type}`, { service: 'projection', operation: 'apply', message: event.type }, () => this.apply(event), extractTrace({ traceparent }));
    else this.apply(event);
  }

  private apply(event: RecordedEvent): void {
    this.options.onDelivered?.();
    // recordedAt is epoch ms, sub-millisecond from the embedded store (the same clock in every thread), ms from PostgreSQL.
    if (this.readModel.apply(event)) this.lag.recordMs(Math.max(0, performance.timeOrigin + performance.now() - event.recordedAt));
    this.lastApplied = event.position;
    if (++this.sinceSave >= this.checkpointEvery) this.save();
  }

  private save(): void {
    this.savedCheckpoint = this.lastApplied;
    this.sinceSave = 0;
  }
}
