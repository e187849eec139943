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

export interface CompletedRun extends RunKey {
  readonly state: 'completed';
  readonly transport: TransportInfo;
  /** orders/s. */
  readonly throughput: { readonly target: number | null; readonly offered: number | null; readonly achieved: number };
  readonly latencyMs: LatencySummary;
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
