import { resolveSweepConfig, type SweepOptionsInput } from '../bench/config.js';
import { preflight } from '../bench/preflight.js';
import { timestampName, writeResultsFolder } from '../bench/results.js';
import { Sweeper } from '../bench/sweep.js';
import { fmtInt, fmtMs } from '../report/format.js';
import { renderTables } from '../report/table.js';
import { reportFiles } from './report-files.js';
import { EXIT, interruptible, type CliIo } from './io.js';
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
  sweeper.on('pattern-start', (p) => io.err(`[${p.index}/${p.total}] ${p.pattern} sweeping\n`));
  sweeper.on('probe', (p) => io.err(`  ${p.pattern} closed-loop probe: ${fmtInt(p.rate)} orders/s\n`));
  sweeper.on('step', ({ pattern, step }) =>
    io.err(`  ${pattern} ${fmtInt(step.rate)}/s → ${fmtInt(step.achieved)}/s, p99 ${fmtMs(step.latencyMs.p99)} ms${step.keepsUp && step.withinSlo ? '' : step.keepsUp ? ' (over the SLO)' : ' (fell behind)'}\n`),
  );
  const doc = await interruptible(io, 'finishing the current step, then writing the results as aborted', (signal) => sweeper.run(signal));
  if (config.outDir) {
    const folder = writeResultsFolder(config.outDir, timestampName(new Date(doc.startedAt)), await reportFiles(doc));
    io.err(`results written to ${folder}/: results.json, report.md, report.html and the charts\n`);
  }
  io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderTables(doc, { wide: flags.wide === true })}\n`);
  if (doc.state === 'aborted') return EXIT.interrupted;
  return doc.sweep?.curves.some((c) => c.state === 'errored') ? EXIT.errored : EXIT.ok;
}
