import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import type { PlacedLog } from '../placed.js';
import type { ReadFlight, ReadPath } from './reads.js';
import type { Recorder } from './recorder.js';

/**
 * Starts orders against the target and hands how they ended to the recorder; counts what
 * is in flight (the schedules and the drain wait on it). With a read path, some of the
 * operations it starts are reads instead (./reads): in flight like orders, recorded apart.
 */
export class Launcher {
  inFlight = 0;
  /** Orders settled so far, and of them failed (warm-up included): the progress figures. */
  settled = 0;
  settledFailed = 0;
  /** Called after every settlement (an open loop at its in-flight cap waits for one). */
  onSettle: (() => void) | undefined;
  private whenIdle: (() => void) | undefined;

  constructor(
    private readonly target: { placeOrder(order: OrderRequest): Promise<OrderOutcome> },
    private readonly nextOrder: () => OrderRequest,
    private readonly log: PlacedLog,
    private readonly recorder: Recorder,
    private readonly now: () => number,
    /** Latency from the intended start (true) or from when the order was sent. */
    private readonly fromIntended: boolean,
    /** The mixed workload's reads; undefined: orders only, and the hot path draws nothing more. */
    private readonly reads?: ReadPath,
  ) {}

  /** Start one operation, an order (or a read, with a read path). `intended` is when it should have started, `sent` when it did (the clock's ms). */
  launch(intended: number, sent: number): Promise<void> {
    if (this.reads !== undefined) {
      const customerId = this.reads.choose();
      if (customerId !== undefined) return this.launchRead(this.reads, customerId, intended, sent);
    }
    const order = this.nextOrder();
    this.reads?.customers.add(order.customerId);
    const index = this.log.add(order, sent);
    const flight = this.recorder.start(intended, this.fromIntended ? intended : sent);
    this.inFlight++;
    let answer: Promise<OrderOutcome>;
    try {
      answer = this.target.placeOrder(order);
    } catch (err) {
      answer = Promise.reject(err);
    }
    return answer.then(
      (outcome) => {
        this.settle(outcome.reason === 'downstream_error');
        if (this.recorder.isClosed) return;
        const done = this.now();
        this.log.accept(index);
        this.log.settle(index, outcome, done);
        this.recorder.record(flight, { kind: 'outcome', outcome }, done);
        // Read-your-writes: the client reads its own order back at once.
        if (flight.measured) this.reads?.checks.start(order.customerId, order.orderId, outcome.status, done);
      },
      (error: unknown) => {
        this.settle(true);
        const done = this.now();
        if (!this.recorder.isClosed) this.log.fail(index, error, done);
        this.recorder.record(flight, { kind: 'error', error }, done);
      },
    );
  }

  /** Start one read of `customerId`'s orders: in flight like an order, recorded by the read recorder only. */
  private launchRead(reads: ReadPath, customerId: string, intended: number, sent: number): Promise<void> {
    const flight = reads.recorder.start(intended, this.fromIntended ? intended : sent);
    this.inFlight++;
    let answer: Promise<unknown>;
    try {
      answer = reads.mix.read(customerId);
    } catch (err) {
      answer = Promise.reject(err);
    }
    return answer.then(
      () => this.settleRead(reads, flight),
      (error: unknown) => this.settleRead(reads, flight, error ?? new Error('read failed')),
    );
  }

  private settleRead(reads: ReadPath, flight: ReadFlight, error?: unknown): void {
    reads.recorder.record(flight, this.now(), error);
    this.release();
  }

  /** Resolves when nothing is in flight any more, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return waitOrTimeout(new Promise<void>((resolve) => (this.whenIdle = resolve)), timeoutMs).finally(() => (this.whenIdle = undefined));
  }

  private settle(failed: boolean): void {
    this.settled++;
    if (failed) this.settledFailed++;
    this.release();
  }

  /** One operation less in flight. */
  private release(): void {
    this.inFlight--;
    this.onSettle?.();
    if (this.inFlight === 0) this.whenIdle?.();
  }
}

/** `p`, or nothing after `ms` (a real timer). */
export function waitOrTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]).finally(() => clearTimeout(timer));
}
