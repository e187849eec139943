import { resolveRunConfig, type RunOptionsInput } from '../bench/config.js';
import { preflight } from '../bench/preflight.js';
import { timestampName, writeResultsFolder, type ResultsDocument } from '../bench/results.js';
import { Runner } from '../bench/runner.js';
import { evaluateThresholds, parseThresholds, thresholdsFailed } from '../bench/thresholds.js';
import { SCENARIOS } from '../faults/scenarios/registry.js';
import { renderTables } from '../report/table.js';
import { fmtInt } from '../report/format.js';
import { exportSpans } from '../tracing/otlp.js';
import { reportFiles } from './report-files.js';
import { reportDelivery } from './trace-command.js';
import { EXIT, interruptible, type CliIo } from './io.js';
import { colorEnabled, progressBar, type ProgressBar } from './progress.js';

/** The options `run` and `sweep` share, as commander hands them over (strings). */
export interface CommonFlags {
  patterns?: string;
  warmup?: string;
  seed?: string;
  quick?: boolean;
  broker?: string;
  eventStore?: string;
  placement?: string;
  topology?: string;
  outOfStockShare?: string;
  declineShare?: string;
  queueAck?: string;
  resilience?: string;
  out?: string;
  json?: boolean;
  /** The full tables instead of the condensed 100-column ones. */
  wide?: boolean;
  /** false with --no-color. */
  color?: boolean;
}

export interface RunFlags extends CommonFlags {
  scenarios?: string;
  duration?: string;
  concurrency?: string;
  rate?: string;
  trials?: string;
  threshold?: string[];
  traceSample?: string;
  otlp?: string;
  readShare?: string;
}

/** The flags that were given, as config input: an option left out stays out (its default applies). */
export function commonInput(flags: CommonFlags): RunOptionsInput {
  const keys = ['patterns', 'warmup', 'seed', 'broker', 'eventStore', 'placement', 'topology', 'outOfStockShare', 'declineShare', 'queueAck', 'resilience', 'out'] as const;
  const input: RunOptionsInput = { quick: flags.quick ?? false };
  for (const key of keys) if (flags[key] !== undefined) Object.assign(input, { [key]: flags[key] });
  return input;
}

/**
 * `pattern-bench run`. Everything the user gave is checked before anything starts: the
 * options, the thresholds, the services named. Exit code: 130 interrupted, else 1 when a
 * pattern errored, else 3 when a threshold failed, else 0.
 */
export async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const input: RunOptionsInput = { ...commonInput(flags) };
  for (const key of ['scenarios', 'duration', 'concurrency', 'rate', 'trials', 'traceSample', 'otlp', 'readShare'] as const) if (flags[key] !== undefined) Object.assign(input, { [key]: flags[key] });
  const config = resolveRunConfig(input); // throws before anything starts or is written
  const thresholds = parseThresholds(flags.threshold ?? [], config.patterns, SCENARIOS.map((s) => s.id));
  await preflight(config); // an unreachable --broker or --event-store is bad input too

  const runner = new Runner(config);
  const bar = io.interactive ? progressBar(io, colorEnabled(io, flags.color)) : null;
  attachProgress(runner, io, bar);
  let measured: ResultsDocument;
  try {
    measured = await interruptible(io, 'finishing the current run, then writing the results as aborted', (signal) => runner.run({ signal }));
  } finally {
    bar?.stop();
  }
  const exported = await exportTraces(runner, measured, io);
  const doc: ResultsDocument = thresholds.length > 0 ? { ...exported, thresholds: evaluateThresholds(thresholds, exported) } : exported;

  if (config.outDir) {
    const folder = writeResultsFolder(config.outDir, timestampName(new Date(doc.startedAt)), await reportFiles(doc));
    io.err(`results written to ${folder}/: results.json, report.md, report.html and the charts\n`);
    if (doc.runs.some((r) => r.state === 'completed' && r.violations)) io.err(`invariants broke: see report.md (Broken invariants explained) for the orders' journeys\n`);
  }
  io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderTables(doc, { wide: flags.wide === true })}\n`);
  if (doc.state === 'aborted') return EXIT.interrupted;
  if (doc.runs.some((r) => r.state === 'errored')) return EXIT.errored;
  return doc.thresholds && thresholdsFailed(doc.thresholds) ? EXIT.thresholdFailed : EXIT.ok;
}

/** `--otlp`: send the run's traced spans, say in one line how it went, and record it in the traces section. */
async function exportTraces(runner: Runner, doc: ResultsDocument, io: CliIo): Promise<ResultsDocument> {
  const url = runner.config.otlp;
  if (url === null || !doc.traces) return doc;
  const delivery = await exportSpans(url, runner.tracer.spans());
  reportDelivery(delivery, io);
  return { ...doc, traces: { ...doc.traces, otlp: delivery } };
}

/**
 * Progress on stderr, driven by the runner's events. On a terminal one bar over every run
 * (capacity and measured) with the finished runs' lines above it; otherwise plain lines.
 */
function attachProgress(runner: Runner, io: CliIo, bar: ProgressBar | null): void {
  const what = (r: { pattern: string; scenario: string; trial: number; stage: string }) =>
    `${r.pattern} · ${r.stage === 'capacity' ? 'capacity' : r.scenario}${runner.config.trials > 1 && r.stage === 'load' ? ` · trial ${r.trial}` : ''}`;
  const label = (r: { index: number; total: number; pattern: string; scenario: string; trial: number; stage: string }) => `[${r.index}/${r.total}] ${what(r)}`;
  const line = (text: string) => (bar ? bar.log(text) : io.err(`${text}\n`));
  if (bar) {
    runner.on('run-start', (r) => bar.update(r.index - 1, r.total, `${what(r)} · starting`));
    runner.on('phase', (p) => bar.update(p.index - 1, p.total, `${what(p)} · ${p.phase}`));
  } else runner.on('run-start', (r) => io.err(`${label(r)} starting\n`));
  runner.on('equal-load', (e) =>
    line(`equal load: ${fmtInt(e.rate)} orders/s open loop for every pattern${e.basis ? ` (${Math.round((e.fraction ?? 0) * 100)}% of ${e.basis.pattern}'s ${fmtInt(e.basis.capacity)} orders/s)` : ''}`),
  );
  runner.on('run-end', (r) => {
    const res = r.result;
    const summary =
      res.state === 'completed'
        ? `${fmtInt(res.throughput.achieved)} orders/s, p99 ${res.latencyMs.p99} ms, invariants ${res.invariants.ok ? 'OK' : 'BROKEN'}`
        : res.state === 'errored'
          ? `errored: ${res.error.code}: ${res.error.message}`
          : 'aborted';
    line(`${label(r)} ${summary}`);
    bar?.update(r.index, r.total, `${what(r)} · done`);
  });
}
