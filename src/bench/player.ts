import type { LoadSurge, SegmentSpec } from './loadgen.js';
import { describeError } from '../errors.js';
import { isCrashable, isErrorInjectable, type RunningPattern } from '../patterns/types.js';
import { globMatcher, type FaultNetwork } from '../faults/network.js';
import type { Scenario, ScenarioStep } from '../faults/scenarios/types.js';

/** How long a crashed service stays down when the scenario does not say (`until`): a share of the window. */
const CRASH_DOWN_SHARE = 0.1;

/** One thing the player did, for the results: when (ms into the window) and what. */
export interface PlayedAction {
  readonly atMs: number;
  readonly what: string;
}

/** Does this scenario need every hop behind a fault proxy? */
export function needsFaultNetwork(scenario: Scenario): boolean {
  return scenario.steps.some((s) => s.action.kind === 'fault' || s.action.kind === 'crash');
}

/** The part of the window the scenario disturbs: its first disturbing step, as ms. */
export function faultWindow(scenario: Scenario, durationMs: number): { fromMs: number; toMs: number } | null {
  const first = scenario.steps[0];
  if (!first) return null;
  return { fromMs: first.at * durationMs, toMs: (first.until ?? 1) * durationMs };
}

/** Load surges of the scenario's `load` steps, for the load generator. */
export function surgesOf(scenario: Scenario, durationMs: number): LoadSurge[] {
  return scenario.steps.flatMap((s) =>
    s.action.kind === 'load' ? [{ fromMs: s.at * durationMs, toMs: (s.until ?? 1) * durationMs, multiplier: s.action.multiplier }] : [],
  );
}

/** Segments of the window to report apart: before, during and after the disturbance. */
export function segmentsOf(scenario: Scenario, durationMs: number): SegmentSpec[] {
  const w = faultWindow(scenario, durationMs);
  if (!w) return [];
  const segments: SegmentSpec[] = [];
  if (w.fromMs > 0) segments.push({ name: 'before', fromMs: 0, toMs: w.fromMs });
  // An order in flight when the fault began was disturbed by it: it counts as during, not before.
  segments.push({ name: 'during', fromMs: w.fromMs, toMs: w.toMs, claimsOverlapping: true });
  if (w.toMs < durationMs) segments.push({ name: 'after', fromMs: w.toMs, toMs: durationMs });
  return segments;
}

/**
 * Plays a scenario's fault and crash steps against a running pattern, on timers counted
 * from the start of the load (the window opens after `warmupMs`). Load steps are the load
 * generator's (see `surgesOf`). `stop()` cancels what has not happened and removes every
 * fault, so that draining and checking see a healthy system.
 */
export class ScenarioPlayer {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: PlayedAction[] = [];
  /** Whether any step reached the pattern (a fault matched one of its hops, or a crash ran). */
  private touched = false;
  /** When the load started (start()): every step is timed from it. */
  private started = performance.now();

  constructor(
    private readonly scenario: Scenario,
    private readonly running: RunningPattern,
    private readonly network: FaultNetwork | null,
    private readonly warmupMs: number,
    private readonly durationMs: number,
  ) {}

  /** Start the clock of the steps: call it as the load starts. */
  start(): void {
    this.started = performance.now();
    for (const step of this.scenario.steps) {
      if (step.action.kind === 'load') continue;
      this.at(step.at, () => this.apply(step));
    }
  }

  /** Run `fn` at `share` of the window, counted from the start of the load (not from now). */
  private at(share: number, fn: () => void | Promise<void>): void {
    const delay = this.started + this.warmupMs + share * this.durationMs - performance.now();
    this.timers.push(
      setTimeout(
        () => {
          void Promise.resolve()
            .then(fn)
            .catch((err: unknown) => this.note(`failed: ${describeError(err).message}`));
        },
        Math.max(0, delay),
      ),
    );
  }

  private note(what: string): void {
    this.log.push({ atMs: Math.round(performance.now() - this.started - this.warmupMs), what });
  }

  private async apply(step: ScenarioStep): Promise<void> {
    const { action } = step;
    if (action.kind === 'fault') {
      if (!this.network) throw new Error('a fault step needs the fault network');
      const name = this.network.addFault(action.hops, action.fault);
      const matches = globMatcher(action.hops);
      const hops = this.network.hops().filter(matches);
      if (hops.length > 0) this.touched = true;
      this.note(`${action.fault.type} on ${action.hops} (${hops.length > 0 ? hops.join(', ') : 'no hop of this pattern matches'})`);
      if (step.repeatEvery !== undefined) {
        // Re-draw the fault's probability for every open connection, again and again.
        const end = step.until ?? 1;
        for (let t = step.at + step.repeatEvery; t < end; t += step.repeatEvery) {
          this.at(t, () => {
            this.network?.removeFault(action.hops, name);
            this.network?.addFault(action.hops, action.fault);
          });
        }
      }
      if (step.until !== undefined) {
        this.at(step.until, () => {
          this.network?.removeFault(action.hops, name);
          this.note(`${action.fault.type} removed from ${action.hops}`);
        });
      }
    } else if (action.kind === 'errors') {
      await this.injectErrors(step, action.service, action.share);
    } else if (action.kind === 'crash') {
      // Every pattern's service is dead for the same time: from `at` until `until`.
      const downMs = ((step.until ?? step.at + CRASH_DOWN_SHARE) - step.at) * this.durationMs;
      if (isCrashable(this.running) && this.running.canCrash(action.service)) {
        await this.running.crash(action.service, downMs);
        this.touched = true;
        this.note(`${action.service} crashed mid-batch, down for ${Math.round(downMs)} ms, then restarted`);
      } else if (this.network) {
        const hops = `*:${action.service}`;
        const name = this.network.addFault(hops, { type: 'down', name: 'crash' });
        const matched = this.network.hops().filter(globMatcher(hops));
        if (matched.length > 0) this.touched = true;
        this.note(
          matched.length > 0
            ? `${action.service} down for ${Math.round(downMs)} ms (${matched.join(', ')}): it is a module of one program, so its boundary goes down`
            : `${action.service} is not in this pattern: it has no such service and no such hop`,
        );
        this.at(step.until ?? step.at + CRASH_DOWN_SHARE, () => {
          this.network?.removeFault(hops, name);
          this.note(`${action.service} back`);
        });
      }
    }
  }

  /** Services failing a share of their calls now (healed by stop()). */
  private readonly failing = new Set<string>();

  private async injectErrors(step: ScenarioStep, service: string, share: number): Promise<void> {
    const running = this.running;
    if (!isErrorInjectable(running) || !running.canInjectErrors(service)) {
      this.note(`${service} is not in this pattern: it has no such service`);
      return;
    }
    await running.injectErrors(service, share);
    this.failing.add(service);
    this.touched = true;
    this.note(`${service} fails ${Math.round(share * 100)}% of its calls with a transient error`);
    if (step.until === undefined) return;
    this.at(step.until, async () => {
      this.failing.delete(service);
      await running.injectErrors(service, 0);
      this.note(`${service} answers every call again`);
    });
  }

  /** What was played, in order. */
  played(): readonly PlayedAction[] {
    return this.log;
  }

  /** Whether the scenario reached the pattern at all (false: e.g. no hop of it matched). */
  get applied(): boolean {
    return this.touched || this.scenario.steps.some((s) => s.action.kind === 'load');
  }

  /** Cancel pending steps and heal the network and the services. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.network?.clearFaults();
    const running = this.running;
    if (isErrorInjectable(running)) for (const service of this.failing) await running.injectErrors(service, 0).catch(() => undefined);
    this.failing.clear();
  }
}
