import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Backlog, TradeOffs, TransportInfo } from '../patterns/types.js';
import type { InvariantReport } from '../workflow/invariants.js';
import type { LatencySummary } from '../metrics/histogram.js';
import type { LoadOutcomes, TimelinePoint } from './loadgen.js';
import type { SequentialResult } from './sequential.js';
import type { FailureFigures } from './failure.js';
import type { HopStats } from '../faults/network.js';
import type { ProjectionStats } from '../patterns/event-sourcing/stats.js';
import type { RunConfig } from './config.js';
import type { ThreadCost } from './threads.js';
import type { WarmupResult } from './warmup.js';

export const SCHEMA_VERSION = 1;
export const TOOL = { name: 'pattern-bench', version: '0.1.0' } as const;

export interface Environment {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly totalMemoryGiB: number;
}

export function captureEnvironment(): Environment {
  const list = cpus();
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

interface RunKey {
  readonly pattern: string;
  readonly scenario: string;
  /** 1-based. */
  readonly trial: number;
}

/** CompletedRun.reads. */
export interface RunReads {
  readonly placed: number;
  readonly completed: number;
  readonly failed: number;
  /** reads/s. */
  readonly perSecond: number;
  readonly latencyMs: LatencySummary;
  /**
   * Read-your-writes: every order of the window that completed, read back at once by its
   * client (re-read with backoff until shown, within 2 s). Absent in older files.
   */
  readonly consistency?: RunConsistency;
}

/** RunReads.consistency (src/bench/load/consistency.ts). */
export interface RunConsistency {
  readonly checked: number;
  /** Of checked: the first answered read did not show the order's terminal status. */
  readonly stale: number;
  /** Of checked: never shown within the bound. */
  readonly unresolved: number;
  readonly reReads: number;
  readonly readErrors: number;
  /** From completion until the read that showed it was sent; 0 when the first read did. */
  readonly timeToConsistencyMs: LatencySummary;
}

export interface CompletedRun extends RunKey {
  readonly state: 'completed';
  readonly transport: TransportInfo;
  /** orders/s. */
  readonly throughput: { readonly target: number | null; readonly offered: number | null; readonly achieved: number };
  /**
   * Every order started in the window, failures and timeouts included: a timed-out order
   * is recorded at its deadline, a lower bound (`lowerBounds` of them; see atLeast()).
   */
  readonly latencyMs: LatencySummary;
  /** The same orders' histogram, HdrHistogram's compressed base64 form: trials are merged from these. Absent in older files. */
  readonly latencyHistogram?: string;
  /** The failed and timed-out orders of `latencyMs` alone; null when none failed. */
  readonly failedLatencyMs?: LatencySummary | null;
  /** Orders that reached a business outcome (confirmed or cancelled) inside the window, whenever they started: `achieved` × window, and what CPU per order divides by. */
  readonly completedInWindow?: number;
  readonly acceptLatencyMs: LatencySummary | null;
  readonly schedulerLatenessMs: LatencySummary | null;
  readonly sequential: SequentialResult | null;
  readonly outcomes: LoadOutcomes;
  readonly errors: Readonly<Record<string, number>>;
  readonly cost: {
    /** Process CPU (every thread) in the window per completed order, µs; null when no order completed (shown as —). */
    readonly cpuMicrosPerOrder: number | null;
    /** Share of the window the main thread's event loop (the load generator's) was busy, 0..1. */
    readonly eventLoopUtilization: number;
    /** The load generator's thread. CPU per order is null when the system shares it (same-thread) or the platform has no per-thread CPU. */
    readonly generator: { readonly thread: string; readonly eventLoopUtilization: number; readonly cpuMicrosPerOrder: number | null };
    /** The system under test: its threads' CPU per completed order, and its busiest thread. */
    readonly system: {
      readonly sharesGeneratorThread: boolean;
      readonly cpuMicrosPerOrder: number | null;
      readonly busiestThread: { readonly name: string; readonly eventLoopUtilization: number } | null;
    };
    /** Bytes on the wire per order placed (all phases), null for patterns without a wire. */
    readonly bytesPerOrder: number | null;
    readonly messagesPerOrder: number | null;
  };
  /** How long the warm-up ran until throughput settled (or its bound), and the slices it saw (orders/s). */
  readonly warmup: WarmupResult;
  /** Every thread of the run over the window: the generator's and each of the system's. */
  readonly threads: readonly ThreadCost[];
  readonly invariants: InvariantReport;
  /** Only when an invariant broke: per broken invariant, its first offenders and their journeys. */
  readonly violations?: readonly Violation[];
  /** Patterns that queue work: peak queue depth and ms to drain after the load. */
  readonly backlog: Backlog | null;
  /** Failures on the pattern's internal hops, by `hop:kind` (retried or compensated). */
  readonly hopErrors: Readonly<Record<string, number>> | null;
  /** Fault scenarios: every socket hop the run proxied, with its traffic and injected faults. */
  readonly hops: readonly HopStats[] | null;
  /** Event sourcing: projection lag, concurrency conflicts and retries. */
  readonly projection: ProjectionStats | null;
  /** Sagas: failure detected → fully compensated. */
  readonly compensationMs: LatencySummary | null;
  /** Orchestrated sagas: steps run (retries included) and sagas resumed after a restart. */
  readonly saga: { readonly stepsRun: number; readonly stepsPerOrder: number; readonly resumed: number } | null;
  /** Fault scenarios: success rate, latency before/during/after, time to recover… */
  readonly failure: FailureFigures | null;
  /**
   * The mixed workload's reads of the window (`--read-share`), apart from the orders: started,
   * answered, failed (timed out included), answered in the window per second, and latency
   * from their (intended) start. null without reads; absent in older files.
   */
  readonly reads?: RunReads | null;
  readonly timelineBucketMs: number;
  readonly timeline: readonly TimelinePoint[];
  /** The measurement window, ms. */
  readonly durationMs: number;
}

export interface ErroredRun extends RunKey {
  readonly state: 'errored';
  readonly error: { readonly code: string; readonly message: string };
}

export interface AbortedRun extends RunKey {
  readonly state: 'aborted';
}

/** One pattern × scenario × trial. A pattern that fails is a result, not a crash. */
export type RunResult = CompletedRun | ErroredRun | AbortedRun;

/** A pattern as the reports describe it: what `list` shows and its trade-offs in our words. */
export interface PatternCard {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly tradeOffs: TradeOffs;
  /** Its synchronous hops are wrapped in the run's resilience policy. */
  readonly resilient: boolean;
  /** Its own retry policy under the run's `--resilience`, in words (the orchestrator's). */
  readonly ownPolicy?: readonly string[];
  /** Not in the default set (run only when `--patterns` names it): why, in words. Absent: in the default set. */
  readonly optIn?: string;
  /** How a read of a customer's orders travels in this pattern, in words (issue #16). */
  readonly readPath?: string;
}

export interface ScenarioCard {
  readonly id: string;
  readonly title: string;
  readonly description: string;
}

export interface ResultsDocument {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly tool: typeof TOOL;
  readonly environment: Environment;
  readonly config: RunConfig;
  /** The patterns and scenarios of the run, described (reports read these, not the registries). */
  readonly patterns?: readonly PatternCard[];
  readonly scenarios?: readonly ScenarioCard[];
  readonly state: 'completed' | 'aborted';
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly runs: readonly RunResult[];
  /** The default load model's first phase: each pattern's closed-loop capacity. Absent with --rate or --concurrency. */
  readonly capacity?: CapacityPhase;
  /** The one open-loop rate every pattern was measured at, and where it came from. Absent with --concurrency. */
  readonly equalLoad?: EqualLoad;
  /** `run --threshold`: each expression and its verdict. */
  readonly thresholds?: readonly ThresholdVerdict[];
  /** `sweep`: each pattern's throughput–latency curve and knee. */
  readonly sweep?: SweepResult;
  /** Orders traced during the run (spans of every hop), and what tracing cost. Absent when the run traced nothing. */
  readonly traces?: TracesSection;
}

/** One span of a traced order, as data. Times are ms from the order's start (its root span). */
export interface TracedSpan {
  readonly name: string;
  /** `service.name`: client, orders, payments, inventory, notifications, broker, orchestrator, store, projection. */
  readonly service: string;
  readonly operation: string;
  readonly message?: string;
  readonly bytes?: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** One traced order of one pattern: the kind asked for, how it ended, and its spans in start order. */
export interface TracedJourney {
  readonly pattern: string;
  /** `confirmed`, `declined` or `out-of-stock` (the compensated kind: the charge is refunded). */
  readonly outcome: string;
  readonly orderId: string;
  readonly traceId: string;
  /** The thread placement the services ran under when the order was traced. */
  readonly placement: string;
  readonly spans: readonly TracedSpan[];
  readonly state: 'completed' | 'errored';
  readonly result?: { readonly status: string; readonly reason?: string };
  readonly error?: { readonly code: string; readonly message: string };
}

/** `run --trace-sample R`: in one measured run, the traced orders against the rest. */
export interface TraceOverhead {
  readonly pattern: string;
  readonly scenario: string;
  readonly trial: number;
  /** Orders traced (a root span opened) and spans recorded in the window. */
  readonly tracedOrders: number;
  readonly spans: number;
  /** Latency of the traced and the untraced orders of the same window, ms; null when a side had none. */
  readonly traced: { readonly p50: number; readonly p99: number } | null;
  readonly untraced: { readonly p50: number; readonly p99: number } | null;
}

export interface TracesSection {
  /** `--trace-sample`: the share of measured orders traced (0: none; the journeys below were traced before measuring). */
  readonly sample: number;
  /** Per pattern, one confirmed and one compensated order, traced on the system under test before the measured phases. */
  readonly journeys: readonly TracedJourney[];
  /** One entry per measured run with --trace-sample > 0; empty otherwise. */
  readonly overhead: readonly TraceOverhead[];
  /** `--otlp URL`: where the spans were sent, how many arrived, and the error when delivery failed. */
  readonly otlp: { readonly url: string; readonly exported: number; readonly failed: number; readonly error?: string } | null;
}

/** One pattern's capacity: a short closed loop that saturates it. */
export interface CapacityRun {
  readonly pattern: string;
  readonly trial: number;
  readonly state: 'completed' | 'errored' | 'aborted';
  /** orders/s completed in the window; null unless completed. */
  readonly achieved: number | null;
  readonly latencyMs: LatencySummary | null;
  /** The system's busiest thread over the window (what capped it). */
  readonly busiestThread: { readonly name: string; readonly eventLoopUtilization: number } | null;
  readonly error?: { readonly code: string; readonly message: string };
  /** What the invariant checker found after the run (a completed run); absent in older files. */
  readonly invariants?: InvariantReport;
  /** How its warm-up went: how long until throughput settled (a completed run); absent in older files. */
  readonly warmup?: WarmupResult;
}

export interface CapacityPhase {
  /** Orders in flight of the closed loop. */
  readonly concurrency: number;
  /** Its measurement window, ms. */
  readonly durationMs: number;
  readonly runs: readonly CapacityRun[];
}

export interface EqualLoad {
  /** orders/s, open loop, the same for every pattern and scenario of the run. */
  readonly rate: number;
  /** `capacity`: `fraction` × the slowest selected pattern's capacity; `fixed`: --rate. */
  readonly source: 'capacity' | 'fixed';
  readonly fraction: number | null;
  /** The slowest pattern and its capacity (median over trials), when source is capacity. */
  readonly basis: { readonly pattern: string; readonly capacity: number } | null;
}

/** `--threshold rest.p99<20ms`: what was asked, what was measured, and whether it held. */
export interface ThresholdVerdict {
  /** As the user wrote it. */
  readonly expression: string;
  /** One per pattern the expression names (every selected pattern for `*`). */
  readonly checks: readonly {
    readonly pattern: string;
    readonly scenario: string;
    /** null: the figure could not be measured (no completed run). */
    readonly actual: number | null;
    readonly pass: boolean;
  }[];
  readonly pass: boolean;
}

/** One step of a sweep: an open-loop run at one offered rate. */
export interface SweepStep {
  /** orders/s asked for. */
  readonly rate: number;
  readonly offered: number;
  readonly achieved: number;
  readonly latencyMs: LatencySummary;
  readonly successRate: number;
  /** achieved ≥ 95% of offered and p99 ≤ SLO. */
  readonly keepsUp: boolean;
  readonly withinSlo: boolean;
}

export interface SweepCurve {
  readonly pattern: string;
  readonly state: 'completed' | 'errored' | 'aborted';
  /** The closed-loop probe that set the first steps' scale, orders/s. */
  readonly probe: number | null;
  readonly steps: readonly SweepStep[];
  /** The highest rate whose p99 ≤ SLO and that kept up; null if even the first step missed. */
  readonly knee: number | null;
  /** Why the sweep stopped: saturation, SLO, the step limit or the time budget. */
  readonly stoppedBy: 'saturated' | 'slo' | 'steps' | 'time' | 'error' | 'aborted';
  readonly invariants: InvariantReport | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface SweepResult {
  readonly sloMs: number;
  readonly stepMs: number;
  /** Geometric factor from one step to the next. */
  readonly factor: number;
  readonly curves: readonly SweepCurve[];
}

/** A file-system-safe timestamp: 2026-11-26T08-15-03-123Z. */
export function timestampName(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * Write the run's files into `<outDir>/<timestamp>/` atomically: everything is written
 * into a hidden sibling folder first, which is renamed into place once complete, so a
 * reader never sees a half-written results folder. Returns the folder's path.
 */
export function writeResultsFolder(outDir: string, name: string, files: Readonly<Record<string, string>>): string {
  mkdirSync(outDir, { recursive: true });
  const final = join(outDir, name);
  const staging = join(outDir, `.${name}.partial-${process.pid}`);
  try {
    mkdirSync(staging);
    for (const [file, content] of Object.entries(files)) writeFileSync(join(staging, file), content);
    renameSync(staging, final);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return final;
}

/** Write one file atomically (temp file + rename in the same folder). */
export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Who did something in an order's journey. */
export type JourneyService = 'client' | 'orders' | 'payments' | 'inventory' | 'notifications';

/** What happened: the client's view (placed, accepted, answered, errored, no answer) or an effect a service recorded. */
export type JourneyEventKind =
  | 'placed'
  | 'accepted'
  | 'answered'
  | 'errored'
  | 'no-answer'
  | 'status'
  | 'charged'
  | 'declined'
  | 'refunded'
  | 'reserved'
  | 'rejected'
  | 'released'
  | 'notified';

/** One step of an order's journey, ms from its placement (from its first effect for an order never placed). */
export interface JourneyEvent {
  readonly ms: number;
  readonly service: JourneyService;
  readonly event: JourneyEventKind;
  /** Human text: `charge 1234 cents`, `CANCELLED (downstream_error)`, `error UNAVAILABLE`. */
  readonly what: string;
  /** `status` and `answered`: the status; `notified`: the status notified. */
  readonly status?: string;
  readonly reason?: string;
  /** `errored`: the error's code. */
  readonly code?: string;
  readonly amountCents?: number;
}

/** One broken invariant of a run: its count and its first offenders (at most 3) with their journeys. */
export interface Violation {
  readonly invariant: string;
  readonly count: number;
  readonly orders: readonly { readonly orderId: string; readonly journey: readonly JourneyEvent[] }[];
  /** `oversold` and `stockNotConserved` break per SKU: the SKUs, and no order. */
  readonly skus?: readonly string[];
}
