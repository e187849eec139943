import { resolveRunConfig, type RunOptionsInput } from '../bench/config.js';
import { preflight } from '../bench/preflight.js';
import { timestampName, writeResultsFolder, type ResultsDocument } from '../bench/results.js';
import { Runner } from '../bench/runner.js';
import { evaluateThresholds, parseThresholds, thresholdsFailed } from '../bench/thresholds.js';
import { SCENARIOS } from '../faults/scenarios/registry.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderTables } from '../report/table.js';
import { fmtInt } from '../report/format.js';
import { EXIT, interruptible, type CliIo } from './io.js';

/** The options `run` and `sweep` share, as commander hands them over (strings). */
export interface CommonFlags {
  patterns?: string;
  warmup?: string;
  seed?: string;
  quick?: boolean;
  broker?: string;
  eventStore?: string;
  placement?: string;
  outOfStockShare?: string;
  declineShare?: string;
  queueAck?: string;
  resilience?: string;
  out?: string;
  json?: boolean;
}

export interface RunFlags extends CommonFlags {
  scenarios?: string;
  duration?: string;
  concurrency?: string;
  rate?: string;
  trials?: string;
  threshold?: string[];
}

/** The flags that were given, as config input: an option left out stays out (its default applies). */
export function commonInput(flags: CommonFlags): RunOptionsInput {
  const keys = ['patterns', 'warmup', 'seed', 'broker', 'eventStore', 'placement', 'outOfStockShare', 'declineShare', 'queueAck', 'resilience', 'out'] as const;
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
  for (const key of ['scenarios', 'duration', 'concurrency', 'rate', 'trials'] as const) if (flags[key] !== undefined) Object.assign(input, { [key]: flags[key] });
  const config = resolveRunConfig(input); // throws before anything starts or is written
  const thresholds = parseThresholds(flags.threshold ?? [], config.patterns, SCENARIOS.map((s) => s.id));
  await preflight(config); // an unreachable --broker or --event-store is bad input too

  const runner = new Runner(config);
  attachProgress(runner, io);
  const measured = await interruptible(io, 'finishing the current run, then writing the results as aborted', (signal) => runner.run({ signal }));
  const doc: ResultsDocument = thresholds.length > 0 ? { ...measured, thresholds: evaluateThresholds(thresholds, measured) } : measured;

  if (config.outDir) {
    const folder = writeResultsFolder(config.outDir, timestampName(new Date(doc.startedAt)), {
      'results.json': `${JSON.stringify(doc, null, 2)}\n`,
      'report.md': renderMarkdown(doc),
    });
    io.err(`results written to ${folder}/results.json and report.md\n`);
  }
  io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderTables(doc)}\n`);
  if (doc.state === 'aborted') return EXIT.interrupted;
  if (doc.runs.some((r) => r.state === 'errored')) return EXIT.errored;
  return doc.thresholds && thresholdsFailed(doc.thresholds) ? EXIT.thresholdFailed : EXIT.ok;
}

/** Progress on stderr, driven by the runner's events. */
function attachProgress(runner: Runner, io: CliIo): void {
  const label = (r: { index: number; total: number; pattern: string; scenario: string; trial: number; stage: string }) =>
    `[${r.index}/${r.total}] ${r.pattern} · ${r.stage === 'capacity' ? 'capacity' : r.scenario}${runner.config.trials > 1 && r.stage === 'load' ? ` · trial ${r.trial}` : ''}`;
  runner.on('run-start', (r) => io.err(`${label(r)} starting\n`));
  runner.on('equal-load', (e) =>
    io.err(`equal load: ${fmtInt(e.rate)} orders/s open loop for every pattern${e.basis ? ` (${Math.round((e.fraction ?? 0) * 100)}% of ${e.basis.pattern}'s ${fmtInt(e.basis.capacity)} orders/s)` : ''}\n`),
  );
  if (io.interactive) {
    runner.on('progress', (p) =>
      io.err(`\r${label(p)} ${p.phase} ${(p.elapsedMs / 1000).toFixed(0)} s: ${fmtInt(p.settled)} orders, ${fmtInt(p.failed)} failed, ${p.inFlight} in flight\x1b[K`),
    );
  }
  runner.on('run-end', (r) => {
    const res = r.result;
    const summary =
      res.state === 'completed'
        ? `${fmtInt(res.throughput.achieved)} orders/s, p99 ${res.latencyMs.p99} ms, invariants ${res.invariants.ok ? 'OK' : 'BROKEN'}`
        : res.state === 'errored'
          ? `errored: ${res.error.code}: ${res.error.message}`
          : 'aborted';
    io.err(`${io.interactive ? '\r' : ''}${label(r)} ${summary}${io.interactive ? '\x1b[K' : ''}\n`);
  });
}
