/**
 * Read-your-writes, measured (issue #16): after an order of the window completes, the
 * client that placed it reads its customer's orders at once and looks for the order with
 * its terminal status. If the read does not show it, the client reads again with a short
 * backoff until it does, within a bound. A pattern that reads its write side shows every
 * order at once; a read model that lags (CQRS) shows some of them late.
 *
 * The checks run beside the schedule: they never hold up the next order, and neither their
 * reads nor their time enter orders/s, order latency or the mixed workload's read figures.
 */
import { LatencyHistogram, type LatencySummary } from '../../metrics/histogram.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { TerminalStatus } from '../../workflow/types.js';

/** How a client re-reads while its order is not shown: the first wait, its cap (it doubles up to that), and how long it tries in all, ms. */
export const READ_YOUR_WRITES: ReadYourWritesBounds = { firstBackoffMs: 1, maxBackoffMs: 16, boundMs: 2_000 };

export interface ReadYourWritesBounds {
  readonly firstBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly boundMs: number;
}

/** The read-your-writes figures of one load. */
export interface ConsistencyResult {
  /** Orders of the window that completed with an outcome and were read back by their client. */
  readonly checked: number;
  /** Of `checked`: the first answered read did not show the order with its terminal status. */
  readonly stale: number;
  /** Of `checked`: not shown within the bound (READ_YOUR_WRITES.boundMs), or still unshown when the load ended. */
  readonly unresolved: number;
  /** Reads after the first (the re-reads of stale checks), answered or failed. */
  readonly reReads: number;
  /** Reads of the checks that failed (they are tried again, like a stale answer). */
  readonly readErrors: number;
  /**
   * Of the checks that resolved: from the order's completion until the read that showed it
   * was sent, ms; 0 when the first read showed it.
   */
  readonly timeToConsistency: LatencySummary;
}

interface Check {
  timer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;
}

/** One client's read of its own orders. */
export type ReadOwn = (customerId: string) => Promise<readonly OrderRecord[]>;

/** The read-your-writes checks of one load; the histogram is allocated before the window opens. */
export class ConsistencyChecks {
  private readonly ttc = new LatencyHistogram();
  private checked = 0;
  private stale = 0;
  private unresolved = 0;
  private reReads = 0;
  private readErrors = 0;
  private readonly running = new Set<Check>();
  private whenIdle: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly read: ReadOwn,
    private readonly now: () => number,
    private readonly bounds: ReadYourWritesBounds = READ_YOUR_WRITES,
  ) {}

  /** The order `orderId` of `customerId` completed with `status` at `completedAt` (the clock's ms): its client reads it back now. */
  start(customerId: string, orderId: string, status: TerminalStatus, completedAt: number): void {
    if (this.closed) return;
    this.checked++;
    const check: Check = { timer: undefined, wake: undefined };
    this.running.add(check);
    void this.run(check, customerId, orderId, status, completedAt).finally(() => {
      this.running.delete(check);
      if (this.running.size === 0) this.whenIdle?.();
    });
  }

  /** Resolves when no check is running, or after `timeoutMs` (a real timer). */
  idle(timeoutMs: number): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => (this.whenIdle = resolve));
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    return Promise.race([idle, timeout]).finally(() => {
      clearTimeout(timer);
      this.whenIdle = undefined;
    });
  }

  /** The load ended: the checks still running are unresolved, their backoff timers cleared. Closes the record. */
  expire(): void {
    if (this.closed) return;
    this.closed = true;
    this.unresolved += this.running.size;
    for (const check of this.running) {
      clearTimeout(check.timer);
      check.wake?.();
    }
  }

  result(): ConsistencyResult {
    return {
      checked: this.checked,
      stale: this.stale,
      unresolved: this.unresolved,
      reReads: this.reReads,
      readErrors: this.readErrors,
      timeToConsistency: this.ttc.summary(),
    };
  }

  private async run(check: Check, customerId: string, orderId: string, status: TerminalStatus, completedAt: number): Promise<void> {
    let backoff = this.bounds.firstBackoffMs;
    let answered = false;
    for (let attempt = 0; ; attempt++) {
      const sentAt = this.now();
      if (attempt > 0) this.reReads++;
      const shown = await this.shows(customerId, orderId, status);
      if (this.closed) return;
      if (shown !== undefined && !answered) {
        answered = true;
        if (!shown) this.stale++;
      }
      if (shown) {
        this.ttc.recordMs(attempt === 0 ? 0 : Math.max(0, sentAt - completedAt));
        return;
      }
      if (this.now() + backoff - completedAt > this.bounds.boundMs) {
        this.unresolved++;
        return;
      }
      await this.pause(check, backoff);
      if (this.closed) return;
      backoff = Math.min(backoff * 2, this.bounds.maxBackoffMs);
    }
  }

  /** Whether one read shows the order with that status; undefined when the read failed. */
  private async shows(customerId: string, orderId: string, status: TerminalStatus): Promise<boolean | undefined> {
    try {
      return (await this.read(customerId)).some((o) => o.orderId === orderId && o.status === status);
    } catch {
      this.readErrors++;
      return undefined;
    }
  }

  private pause(check: Check, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      check.wake = resolve;
      check.timer = setTimeout(() => {
        check.timer = undefined;
        check.wake = undefined;
        resolve();
      }, ms);
    });
  }
}
