/**
 * The mixed workload's reads (`--read-share`): which operations are reads, of whose
 * orders, and what is recorded of them — apart from the orders, which they never enter
 * (not orders/s, not order latency, not the PlacedLog, not the invariants).
 */
import { describeError } from '../../errors.js';
import { LatencyHistogram, type LatencySummary } from '../../metrics/histogram.js';
import type { Random } from '../../random.js';
import type { OrderRecord } from '../../workflow/orders.js';
import { ConsistencyChecks, READ_YOUR_WRITES, type ConsistencyResult, type ReadYourWritesBounds } from './consistency.js';
import type { LoadWindow } from './window.js';

/** What the generator needs to mix reads into the load (LoadOptions.reads). */
export interface ReadMix {
  /** The share of the operations started that are reads, 0 < share < 1. */
  readonly share: number;
  /** Where each operation's draw (read or order) and each read's customer come from. */
  readonly random: Random;
  /** Read one customer's orders (OrderReader.customerOrders): the mix's reads, and each completed order's read-your-writes check. */
  read(customerId: string): Promise<readonly OrderRecord[]>;
  /** How the read-your-writes checks re-read; default READ_YOUR_WRITES. */
  readonly readYourWrites?: ReadYourWritesBounds;
}

/** The reads started in the window, how they ended, and their latency. */
export interface ReadResult {
  readonly placed: number;
  /** Of `placed`: answered. */
  readonly completed: number;
  /** Of `placed`: failed, or still unanswered when the drain timeout ran out. */
  readonly failed: number;
  /** Reads answered inside the window (whenever they started) per second. */
  readonly perSecond: number;
  /** The reads of `placed` that answered or failed, from their (intended) start. */
  readonly latency: LatencySummary;
  /** Failures by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Read-your-writes: each order of the window that completed, read back by its client (./consistency). */
  readonly consistency: ConsistencyResult;
}

/**
 * The customers who have placed an order so far in the run, each once, in an array that a
 * draw indexes: a read of an existing customer costs one draw and no search.
 */
export class Customers {
  private readonly seen = new Set<string>();
  private readonly ids: string[] = [];

  add(customerId: string): void {
    if (this.seen.has(customerId)) return;
    this.seen.add(customerId);
    this.ids.push(customerId);
  }

  get size(): number {
    return this.ids.length;
  }

  /** A random one of them; undefined when there is none yet. */
  pick(random: Random): string | undefined {
    return this.ids.length === 0 ? undefined : this.ids[random.int(0, this.ids.length - 1)];
  }
}

/** A read's start: where its latency counts from, and whether the window measures it. */
export interface ReadFlight {
  readonly from: number;
  readonly measured: boolean;
}

/** Counts and times the reads; allocated before the window opens, like the Recorder. */
export class ReadRecorder {
  readonly latency = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  placed = 0;
  completed = 0;
  failed = 0;
  completedInWindow = 0;
  /** Reads of the window not settled yet: failed (timed out) when the drain ends. */
  private pending = 0;
  private closed = false;

  constructor(private readonly window: LoadWindow) {}

  /** A read is sent: `intended` its intended start, `from` where its latency counts from. */
  start(intended: number, from: number): ReadFlight {
    const measured = this.window.inWindow(intended);
    if (measured) {
      this.placed++;
      this.pending++;
    }
    return { from, measured };
  }

  /** The read answered (`error` undefined) or failed, at `done` on the clock. */
  record(read: ReadFlight, done: number, error?: unknown): void {
    if (this.closed) return;
    if (error === undefined && this.window.inWindow(done)) this.completedInWindow++;
    if (!read.measured) return;
    this.pending--;
    this.latency.recordMs(done - read.from);
    if (error === undefined) {
      this.completed++;
      return;
    }
    this.failed++;
    const { code } = describeError(error);
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** The drain timeout ran out: the reads still unanswered failed. Closes the record. */
  expire(): void {
    if (this.closed) return;
    this.failed += this.pending;
    if (this.pending > 0) this.errors.timeout = (this.errors.timeout ?? 0) + this.pending;
    this.pending = 0;
    this.closed = true;
  }

  result(windowMs: number): Omit<ReadResult, 'consistency'> {
    return {
      placed: this.placed,
      completed: this.completed,
      failed: this.failed,
      perSecond: this.completedInWindow / (windowMs / 1000),
      latency: this.latency.summary(),
      errors: { ...this.errors },
    };
  }
}

/** The read side of one load: the mix, the customers so far, the record, and the read-your-writes checks. */
export class ReadPath {
  readonly customers = new Customers();
  readonly recorder: ReadRecorder;
  readonly checks: ConsistencyChecks;

  constructor(
    readonly mix: ReadMix,
    window: LoadWindow,
    now: () => number,
  ) {
    this.recorder = new ReadRecorder(window);
    this.checks = new ConsistencyChecks((customerId) => mix.read(customerId), now, mix.readYourWrites ?? READ_YOUR_WRITES);
  }

  /** The load ended: the reads and checks still open are failed or unresolved. */
  expire(): void {
    this.recorder.expire();
    this.checks.expire();
  }

  result(windowMs: number): ReadResult {
    return { ...this.recorder.result(windowMs), consistency: this.checks.result() };
  }

  /** The next operation: a read of this customer's orders, or undefined for an order (so too while no customer has ordered yet). */
  choose(): string | undefined {
    if (!this.mix.random.chance(this.mix.share)) return undefined;
    return this.customers.pick(this.mix.random);
  }
}
