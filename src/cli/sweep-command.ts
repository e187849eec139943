import { performance } from 'node:perf_hooks';
import { resolveSweepConfig, type SweepOptionsInput } from '../bench/config.js';
import { preflight } from '../bench/preflight.js';
import { timestampName, writeResultsFolder, type ResultsDocument } from '../bench/results.js';
import { Sweeper } from '../bench/sweep.js';
import type { SweepSettings } from '../bench/sweep-settings.js';
import { fmtInt, fmtMs } from '../report/format.js';
import { renderTables } from '../report/table.js';
import { reportFiles } from './report-files.js';
import { EXIT, interruptible, type CliIo } from './io.js';
import { colorEnabled, progressBar, type ProgressBar } from './progress.js';
import { commonInput, type CommonFlags } from './run-command.js';

export interface SweepFlags extends CommonFlags {
  slo?: string;
}

/** `pattern-bench sweep`: each pattern's throughput–latency curve and knee. Exit codes as `run`'s. */
export async function sweepCommand(flags: SweepFlags, io: CliIo): Promise<number> {
  const input: SweepOptionsInput = { ...commonInput(flags), ...(flags.slo !== undefined ? { slo: flags.slo } : {}) };
  const config = resolveSweepConfig(input);
  await preflight(config);
  if (config.load.kind !== 'sweep') throw new Error('a sweep config has sweep settings');
  const sweeper = new Sweeper(config, config.load.settings);
  const progress = new SweepProgress(config.patterns.length, { ...config.load.settings, warmupMaxMs: config.warmupMaxMs });
  const bar = io.interactive ? progressBar(io, colorEnabled(io, flags.color), { unit: 'steps', etaBoundS: () => progress.etaBoundMs() / 1000 }) : null;
  attachSweepProgress(sweeper, progress, io, bar);
  let doc: ResultsDocument;
  try {
    doc = await interruptible(io, 'finishing the current step, then writing the results as aborted', (signal) => sweeper.run(signal));
  } finally {
    bar?.stop();
  }
  if (config.outDir) {
    const folder = writeResultsFolder(config.outDir, timestampName(new Date(doc.startedAt)), await reportFiles(doc));
    io.err(`results written to ${folder}/: results.json, report.md, report.html and the charts\n`);
  }
  io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderTables(doc, { wide: flags.wide === true })}\n`);
  if (doc.state === 'aborted') return EXIT.interrupted;
  return doc.sweep?.curves.some((c) => c.state === 'errored') ? EXIT.errored : EXIT.ok;
}

/** What bounds a sweep's steps and time: its settings and the longest warm-up before a pattern's probe. */
export type SweepBounds = Pick<SweepSettings, 'maxSteps' | 'budgetMs' | 'probeMs' | 'stepMs' | 'rampMs'> & { readonly warmupMaxMs: number };

/**
 * A sweep's progress, for the bar: the steps measured of a bound on the steps, and a bound
 * on the time left, both from the settings. A pattern measures at most `maxSteps` steps and
 * one more between the last that held and the first that missed; its steps start no later
 * than its time budget after the first one did, so they end within the budget and one step
 * (ramp and window). Before its steps: at most the longest warm-up and the probe. A pattern
 * that stops early gives its unused steps and time back. The clock is `now` (ms).
 */
export class SweepProgress {
  private done = 0;
  private patternsEnded = 0;
  private current: { steps: number; startedAt: number; steppingFrom: number | null } | null = null;

  constructor(
    private readonly patterns: number,
    private readonly bounds: SweepBounds,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The most steps one pattern measures. */
  get stepsPerPattern(): number {
    return this.bounds.maxSteps + 1;
  }

  /** Steps measured so far, every pattern's. */
  get steps(): number {
    return this.done;
  }

  /** The most steps the sweep can have measured when it ends. */
  get stepBound(): number {
    const notStarted = this.patterns - this.patternsEnded - (this.current ? 1 : 0);
    return this.done + (this.current ? this.stepsPerPattern - this.current.steps : 0) + notStarted * this.stepsPerPattern;
  }

  patternStarted(): void {
    this.current = { steps: 0, startedAt: this.now(), steppingFrom: null };
  }

  probed(): void {
    if (this.current) this.current.steppingFrom = this.now();
  }

  stepped(): void {
    this.done++;
    if (this.current) this.current.steps++;
  }

  patternEnded(): void {
    this.patternsEnded++;
    this.current = null;
  }

  /** The time left at most, ms (machine-dependent start-up, drains and invariant checks aside). */
  etaBoundMs(): number {
    const { budgetMs, probeMs, stepMs, rampMs, warmupMaxMs } = this.bounds;
    const before = warmupMaxMs + probeMs;
    const stepping = budgetMs + rampMs + stepMs;
    const notStarted = this.patterns - this.patternsEnded - (this.current ? 1 : 0);
    return this.currentLeftMs(before, stepping) + notStarted * (before + stepping);
  }

  /** What the current pattern has left at most: of its warm-up and probe, then of its steps. */
  private currentLeftMs(before: number, stepping: number): number {
    const c = this.current;
    if (!c) return 0;
    const now = this.now();
    if (c.steppingFrom === null) return Math.max(0, before - (now - c.startedAt)) + stepping;
    return Math.max(0, stepping - (now - c.steppingFrom));
  }
}

/**
 * Progress on stderr, driven by the sweeper's events: each pattern's probe and steps as
 * lines; on a terminal above one bar over every step, labelled with what runs now.
 */
function attachSweepProgress(sweeper: Sweeper, progress: SweepProgress, io: CliIo, bar: ProgressBar | null): void {
  const line = (text: string) => (bar ? bar.log(text) : io.err(`${text}\n`));
  const show = (label: string) => bar?.update(progress.steps, progress.stepBound, label);
  sweeper.on('pattern-start', (p) => {
    progress.patternStarted();
    line(`[${p.index}/${p.total}] ${p.pattern} sweeping`);
    show(`${p.pattern} · warm-up and probe`);
  });
  sweeper.on('probe', (p) => {
    progress.probed();
    line(`  ${p.pattern} closed-loop probe: ${fmtInt(p.rate)} orders/s`);
    show(`${p.pattern} · probe ${fmtInt(p.rate)}/s, stepping up`);
  });
  sweeper.on('step', ({ pattern, step }) => {
    progress.stepped();
    line(`  ${pattern} ${fmtInt(step.rate)}/s → ${fmtInt(step.achieved)}/s, p99 ${fmtMs(step.latencyMs.p99)} ms${step.keepsUp && step.withinSlo ? '' : step.keepsUp ? ' (over the SLO)' : ' (fell behind)'}`);
    show(`${pattern} · last step ${fmtInt(step.rate)}/s`);
  });
  sweeper.on('curve', (c) => {
    progress.patternEnded();
    show(`${c.pattern} · ${c.state}`);
  });
}
