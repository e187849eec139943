/**
 * When orders start. Open loop: on a grid at a fixed rate, whatever the system does, sent
 * by a timer accurate to well under a millisecond. Closed loop: workers that each place
 * the next order as soon as the last one settles.
 */
import { waitOrTimeout, type Launcher } from './launcher.js';
import type { Recorder } from './recorder.js';
import { multiplierAt, type LoadWindow, type SurgeBounds } from './window.js';

/** Closed loop: longest stretch of ms without giving the event loop back. */
const YIELD_EVERY_MS = 5;

/**
 * The precise timer sleeps with setTimeout until this long before the moment, then polls
 * with setImmediate, ms. setTimeout counts whole milliseconds and fires up to about a
 * millisecond late; polling costs a busy event loop, but only for this long per start.
 */
export const SPIN_MS = 1.5;

/**
 * Between two polls the timer naps this long, ms (a futex wait, no CPU): polling alone
 * keeps a core busy for as long as starts are under SPIN_MS apart (from about 700
 * orders/s), and on a 2-core machine that core is the system's. A nap delays I/O by at
 * most this long; `npm run bench:timer` measures the lateness and the CPU it costs.
 */
export const NAP_MS = 0.05;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => Atomics.wait(napCell, 0, 0, ms);

/** What stops a schedule early: the run's abort signal. */
export class StopSwitch {
  stopped = false;
  private readonly listeners: (() => void)[] = [];
  private readonly onAbort = () => this.stop();

  constructor(private readonly signal?: AbortSignal) {
    if (signal?.aborted) this.stopped = true;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Call `fn` when stopped (at once if already). */
  onStop(fn: () => void): void {
    if (this.stopped) fn();
    else this.listeners.push(fn);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const fn of this.listeners.splice(0)) fn();
  }

  dispose(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.listeners.length = 0;
  }
}

export interface ScheduleContext {
  readonly now: () => number;
  /** When the load started, on the clock. */
  readonly t0: number;
  readonly window: LoadWindow;
  readonly surges: readonly SurgeBounds[];
  readonly launcher: Launcher;
  readonly recorder: Recorder;
  readonly stop: StopSwitch;
  /** How long to wait for orders in flight once the window has closed, ms. */
  readonly drainTimeoutMs: number;
}

/**
 * Open-loop starts, anchored rather than accumulated: start k after the anchor is
 * anchor + k × interval (no drift, and the same grid in every run). Where the rate changes
 * (a surge begins or ends), the grid re-anchors at the start that falls there.
 */
export class OpenLoopGrid {
  /** The intended start of the next order, on the clock. */
  next: number;
  private anchor: number;
  private sinceAnchor = 0;
  private multiplier: number;

  /** `rate` orders/s from `start`, times `multiplierAt(t)`. */
  constructor(
    start: number,
    private readonly rate: number,
    private readonly multiplierAt: (t: number) => number = () => 1,
  ) {
    this.next = start;
    this.anchor = start;
    this.multiplier = multiplierAt(start);
  }

  /** Take the next start and move on to the one after it. */
  take(): number {
    const intended = this.next;
    const m = this.multiplierAt(intended);
    if (m !== this.multiplier) {
      this.anchor = intended;
      this.sinceAnchor = 0;
      this.multiplier = m;
    }
    this.next = this.anchor + (++this.sinceAnchor * 1000) / (this.rate * m);
    return intended;
  }
}

/**
 * Call `fn` once `now()` reaches `at`: setTimeout until about SPIN_MS before, then
 * setImmediate polling (every turn lets timers and I/O run). Never calls `fn` synchronously.
 * A clock that stands still between two polls is not the real one (a test's fake clock
 * follows the fake timers): then it waits with setTimeout for what is left. Returns a cancel.
 */
export function waitUntil(now: () => number, at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let last = Number.NaN;
  const wait = (t: number) => {
    const left = at - t;
    if (left >= SPIN_MS + 1) timer = setTimeout(check, Math.floor(left - SPIN_MS));
    else if (t === last) timer = setTimeout(check, Math.max(1, Math.ceil(left)));
    else {
      if (left > NAP_MS) nap(NAP_MS);
      immediate = setImmediate(check);
    }
    last = t;
  };
  const check = () => {
    timer = undefined;
    immediate = undefined;
    const t = now();
    if (t >= at) fn();
    else wait(t);
  };
  wait(now());
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

/** Open loop at `rate` orders/s (× surges), at most `maxInFlight` at once; then the drain. Returns the orders sent in the window. */
export async function runOpenLoop(ctx: ScheduleContext, rate: number, maxInFlight = Number.POSITIVE_INFINITY): Promise<number> {
  const { now, window, launcher, recorder, stop } = ctx;
  const grid = new OpenLoopGrid(ctx.t0, rate, (t) => multiplierAt(ctx.surges, window.start, t));
  let offered = 0;
  let cancel: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      cancel = undefined;
      if (stop.stopped) return resolve();
      while (launcher.inFlight < maxInFlight) {
        if (grid.next >= window.end) return resolve();
        const t = now();
        if (grid.next > t) break;
        const intended = grid.take();
        if (window.inWindow(t)) offered++;
        if (window.inWindow(intended)) recorder.lateness.recordMs(t - intended);
        void launcher.launch(intended, t);
      }
      if (launcher.inFlight >= maxInFlight) return; // a settlement wakes us
      cancel = waitUntil(now, grid.next, tick);
    };
    const wake = () => {
      cancel?.();
      tick();
    };
    stop.onStop(wake);
    if (Number.isFinite(maxInFlight)) {
      launcher.onSettle = () => {
        if (!cancel && !stop.stopped && launcher.inFlight < maxInFlight) queueMicrotask(wake);
      };
    }
    tick();
  });
  cancel?.();
  launcher.onSettle = undefined;
  await launcher.idle(ctx.drainTimeoutMs);
  return offered;
}

/** Closed loop: `concurrency` workers (more during surges) until the window closes; then the drain. */
export async function runClosedLoop(ctx: ScheduleContext, concurrency: number): Promise<void> {
  const { now, window, launcher, stop } = ctx;
  // A pattern that answers with resolved promises (direct calls) never gives the event
  // loop back; yield every few ms so that timers, signals and I/O still run.
  let lastYield = now();
  /** One worker: the next order as soon as the last settles, until `until`. */
  const worker = async (until: number) => {
    while (!stop.stopped && now() < until) {
      const t = now();
      if (t - lastYield > YIELD_EVERY_MS) {
        lastYield = t;
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await launcher.launch(t, t);
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker(window.end));
  const timers = ctx.surges.map((surge) => {
    const extra = Math.round(concurrency * (surge.multiplier - 1));
    const until = Math.min(window.start + surge.toMs, window.end);
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      timer = setTimeout(() => void Promise.all(Array.from({ length: extra }, () => worker(until))).then(() => resolve()), Math.max(0, window.start + surge.fromMs - ctx.t0));
      stop.onStop(resolve);
    });
    workers.push(done);
    return timer;
  });
  await waitOrTimeout(Promise.all(workers).then(() => undefined), window.end - now() + ctx.drainTimeoutMs);
  for (const timer of timers) clearTimeout(timer);
}
