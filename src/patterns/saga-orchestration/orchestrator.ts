import { performance } from 'node:perf_hooks';
import { ExponentialBackoff, handleWhen, retry, type IPolicy } from 'cockatiel';
import { LatencyHistogram, type LatencySummary } from '../../metrics/histogram.js';
import { WrongExpectedVersionError } from '../../event-store/errors.js';
import type { EventStore } from '../../event-store/types.js';
import type { Random } from '../../random.js';
import { seededFullJitter } from '../../resilience/policies.js';
import type { CancelReason, OrderRequest } from '../../workflow/types.js';
import { ORDER_SAGA, type SagaParticipants, type SagaStep } from './definition.js';
import { withSpan } from '../../tracing/index.js';
import { fold, sagaStream, toEvent, unfinishedSagas, type SagaRecord, type SagaState } from './saga-log.js';

/** A saga log append, in a span of the store's when the order is traced. */
const logged = <T>(type: string, append: () => Promise<T>): Promise<T> => withSpan(`saga log: append ${type}`, { service: 'store', operation: 'append', message: type }, append);

const epochNow = (): number => performance.timeOrigin + performance.now();

/** How hard the orchestrator tries. ms. */
export interface OrchestratorSettings {
  /** Attempts of a forward step after a technical failure, before the saga compensates. Default 3. */
  readonly stepAttempts: number;
  /** Attempts of a compensation or of a step after the pivot: they must land. Default 60. */
  readonly mustLandAttempts: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

export const ORCHESTRATOR_DEFAULTS: OrchestratorSettings = { stepAttempts: 3, mustLandAttempts: 60, backoff: { initialMs: 10, maxMs: 500 } };

/**
 * The orchestrator's retries under each `--resilience`: `default` is its own policy;
 * `none` tries every step and every compensation once (each bounded by the gRPC deadline),
 * as `none` does for the synchronous patterns' hops.
 */
export const ORCHESTRATOR_POLICIES: Readonly<Record<'none' | 'default', OrchestratorSettings>> = {
  default: ORCHESTRATOR_DEFAULTS,
  none: { stepAttempts: 1, mustLandAttempts: 1, backoff: ORCHESTRATOR_DEFAULTS.backoff },
};

/** The policy in words, for the report. */
export function describeOrchestratorPolicy(s: OrchestratorSettings, deadlineMs: number): string[] {
  const tries = (n: number) => (n === 1 ? 'tried once' : `up to ${n} attempts, backoff ${s.backoff.initialMs}–${s.backoff.maxMs} ms with jitter`);
  return [
    `forward steps (charge, reserve): ${tries(s.stepAttempts)}; each attempt bounded by the gRPC deadline of ${deadlineMs} ms`,
    `compensations (refund, release) and steps after the pivot (notify): ${tries(s.mustLandAttempts)}`,
  ];
}

/** Thrown inside an execution that a crash abandoned: it stops where it is, as a dead process would. */
class Abandoned extends Error {}

/**
 * The saga orchestrator: an explicit state machine over `ORDER_SAGA` whose every decision
 * is written to the saga log before it is acted on. Technical failures are retried with
 * backoff (cockatiel); a business refusal or exhausted retries before the pivot
 * compensate the completed steps in reverse order; compensations and the steps after the
 * pivot are retried until they land. A crash abandons every execution; `recover()` reads
 * the log and resumes every saga that had not ended.
 */
export class Orchestrator {
  private generation = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly compensation = new LatencyHistogram();
  private readonly forwardPolicy: IPolicy;
  private readonly mustLandPolicy: IPolicy;
  private stopped = false;
  /** Sagas resumed from the log after a restart. */
  resumed = 0;
  /** Steps and compensations executed (attempts that reached a participant). */
  stepsRun = 0;
  /** Executions that gave up with the saga still open (resumed by the next recovery). */
  failedExecutions = 0;
  lastError: unknown;

  constructor(
    private readonly log: EventStore,
    private readonly participants: SagaParticipants,
    random: Random,
    private readonly settings: OrchestratorSettings = ORCHESTRATOR_DEFAULTS,
    private readonly steps: readonly SagaStep[] = ORDER_SAGA,
  ) {
    const backoff = () =>
      new ExponentialBackoff({ generator: seededFullJitter(random.fork()), initialDelay: settings.backoff.initialMs, maxDelay: settings.backoff.maxMs });
    // A crash is not a failure to retry: an abandoned execution stops at once.
    const failures = handleWhen((err) => !(err instanceof Abandoned));
    this.forwardPolicy = retry(failures, { maxAttempts: settings.stepAttempts - 1, backoff: backoff() });
    this.mustLandPolicy = retry(failures, { maxAttempts: settings.mustLandAttempts - 1, backoff: backoff() });
  }

  /** Log the saga's start (the order is accepted once this append is durable), then run it. */
  async start(order: OrderRequest): Promise<void> {
    const stream = sagaStream(order.orderId);
    const result = await logged('SagaStarted', () => this.log.append(stream, [toEvent({ type: 'SagaStarted', order }, stream)], 0));
    this.launch({ orderId: order.orderId, order, version: result.version, succeeded: [], compensated: [] });
  }

  /** Sagas executing now, with the generation that runs them. */
  private readonly active = new Map<string, number>();

  private launch(state: SagaState): void {
    const gen = this.generation;
    this.active.set(state.orderId, gen);
    const run = this.execute(state, gen).catch((err: unknown) => {
      if (err instanceof Abandoned || this.stopped) return;
      // The saga stays open in the log; the next recovery resumes it.
      this.failedExecutions++;
      this.lastError = err;
    });
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.active.get(state.orderId) === gen) this.active.delete(state.orderId);
    });
  }

  /** Append a record at the saga's version; abandoned executions append nothing. */
  private async record(state: SagaState, gen: number, record: SagaRecord): Promise<SagaState> {
    this.check(gen);
    const stream = sagaStream(state.orderId);
    const result = await logged(record.type, () => this.log.append(stream, [toEvent(record, stream)], state.version));
    return { ...state, version: result.version };
  }

  private check(gen: number): void {
    if (gen !== this.generation || this.stopped) throw new Abandoned('orchestrator crashed');
  }

  private async attempt<T>(policy: IPolicy, gen: number, call: () => Promise<T>): Promise<T> {
    return policy.execute(async () => {
      this.check(gen);
      this.stepsRun++;
      return call();
    });
  }

  private async execute(initial: SagaState, gen: number): Promise<void> {
    try {
      await this.advance(initial, gen);
    } catch (err) {
      if (!(err instanceof WrongExpectedVersionError)) throw err;
      // Someone appended first (the last write of a crashed execution): continue from the log.
      this.check(gen);
      const state = fold(await this.log.readStream(sagaStream(initial.orderId)));
      if (state && !state.ended) await this.advance(state, gen);
    }
  }

  private async advance(initial: SagaState, gen: number): Promise<void> {
    let state = initial;
    const { order } = state;
    if (!state.failure) {
      // Forward: every step not yet logged as done.
      for (const step of this.steps.slice(state.succeeded.length)) {
        const mustLand = step.kind === 'retriable';
        let failure: CancelReason | undefined;
        try {
          const result = await this.attempt(mustLand ? this.mustLandPolicy : this.forwardPolicy, gen, () => step.run(this.participants, order));
          if (!result.ok) failure = result.reason;
        } catch (err) {
          if (err instanceof Abandoned || mustLand) throw err; // a step after the pivot that never landed: the saga stays open
          failure = 'downstream_error';
        }
        this.check(gen);
        if (failure === undefined) {
          state = await this.record(state, gen, { type: 'StepSucceeded', step: step.name });
          state = { ...state, succeeded: [...state.succeeded, step.name] };
          continue;
        }
        const failedAt = epochNow();
        state = await this.record(state, gen, { type: 'StepFailed', step: step.name, reason: failure, failedAt });
        state = { ...state, failure: { step: step.name, reason: failure, failedAt } };
        break;
      }
    }
    if (state.failure) {
      // Backward: undo the completed compensatable steps, newest first — and the failed step
      // itself when it failed technically (it may have happened; undoing is idempotent).
      const failed = state.failure;
      const toUndo = this.steps
        .filter(
          (s) =>
            s.kind === 'compensatable' &&
            !state.compensated.includes(s.name) &&
            (state.succeeded.includes(s.name) || (s.name === failed.step && failed.reason === 'downstream_error')),
        )
        .reverse();
      for (const step of toUndo) {
        await this.attempt(this.mustLandPolicy, gen, () => step.compensate?.(this.participants, order) ?? Promise.resolve());
        state = await this.record(state, gen, { type: 'StepCompensated', step: step.name });
        state = { ...state, compensated: [...state.compensated, step.name] };
      }
      if (toUndo.length > 0 || state.compensated.length > 0) this.compensation.recordMs(epochNow() - failed.failedAt);
      await this.attempt(this.mustLandPolicy, gen, () => this.participants.cancel(order.orderId, failed.reason));
      // Best effort, as in every pattern: a lost notification never changes the order.
      await this.attempt(this.forwardPolicy, gen, () => this.participants.notify(order.orderId, 'CANCELLED')).catch((err: unknown) => {
        if (err instanceof Abandoned) throw err;
      });
      await this.record(state, gen, { type: 'SagaEnded', status: 'CANCELLED', reason: failed.reason });
      return;
    }
    await this.record(state, gen, { type: 'SagaEnded', status: 'CONFIRMED' });
  }

  /** Failure detected → fully compensated, over the sagas that compensated. */
  compensationLatency(): LatencySummary {
    return this.compensation.summary();
  }

  /**
   * Crash: every execution stops at its next step, as a killed process would; what it
   * sent is out there, what it had not logged is forgotten.
   */
  crash(): void {
    this.generation++;
  }

  /** Restart after a crash: resume every saga the log says has not ended. Returns how many. */
  async recover(): Promise<number> {
    // Sagas started since the restart are already running in this generation.
    const open = (await unfinishedSagas(this.log)).filter((s) => this.active.get(s.orderId) !== this.generation);
    for (const state of open) this.launch(state);
    this.resumed += open.length;
    return open.length;
  }

  /** Saga executions running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** No saga running. */
  get idle(): boolean {
    return this.running.size === 0;
  }

  /** Stop: abandon what runs and wait for it to notice. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    await Promise.allSettled([...this.running]);
  }
}
