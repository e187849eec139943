#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { resolveRunConfig, assertWritableDir, type RunOptionsInput } from './bench/config.js';
import { writeFileAtomic, writeResultsFolder, timestampName, type ResultsDocument } from './bench/results.js';
import { Runner } from './bench/runner.js';
import { preflight } from './bench/preflight.js';
import { runBrokerCommand } from './broker/command.js';
import { InvalidOptionError, InvalidResultsFileError, PatternBenchError, UnknownNameError } from './errors.js';
import { DEFAULT_SCENARIOS, SCENARIOS } from './faults/scenarios/registry.js';
import { PATTERNS } from './patterns/registry.js';
import { renderMarkdown } from './report/markdown.js';
import { renderTables } from './report/table.js';
import { renderHtml } from './report/html.js';
import { renderComparison } from './report/compare.js';
import { fmtInt } from './report/format.js';

/** Where the CLI writes: stdout for results, stderr for progress and errors. Tests swap these. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress is redrawn in place). */
  readonly interactive: boolean;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

interface RunFlags {
  patterns?: string;
  scenarios?: string;
  duration?: string;
  warmup?: string;
  concurrency?: string;
  rate?: string;
  trials?: string;
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

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('pattern-bench')
    .description('Run one order workflow over REST, gRPC, a queue, event sourcing and sagas; compare throughput, latency and failure behaviour.')
    .version('0.1.0')
    // Usage errors are printed by main() as one line; help and version go to stdout.
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .exitOverride();

  program
    .command('run')
    .description('benchmark the patterns and write results/<timestamp>/results.json and report.md')
    .option('--patterns <list>', `comma-separated patterns (default: all: ${PATTERNS.map((p) => p.id).join(',')})`)
    .option('--scenarios <list>', `comma-separated scenarios (default: ${DEFAULT_SCENARIOS.join(',')}; baseline with --quick; known: ${SCENARIOS.map((s) => s.id).join(',')})`)
    .option('--duration <seconds>', 'measured time per run (default 3; 1 with --quick)')
    .option('--warmup <seconds>', 'least warm-up before each run; it goes on until throughput settles, up to 3 s (default 0.5; 0.3 with --quick, up to 0.75 s)')
    .option('--concurrency <n>', 'closed loop: orders in flight at once (default 10)')
    .option('--rate <orders/s>', 'open loop: start orders at this rate, timed from their intended start')
    .option('--trials <n>', 'repeat each pattern × scenario; tables show medians with a confidence interval (default 1)')
    .option('--seed <n>', 'seed of every random choice (default 42)')
    .option('--quick', 'short runs of the baseline scenario, for a first look or a workshop laptop')
    .option('--broker <embedded|amqp://…>', 'message broker for the queue and choreography patterns (default embedded)')
    .option('--event-store <memory|postgres://…>', 'event store for event sourcing and the saga log (default memory)')
    .option('--placement <same-thread|shared|per-service>', 'where every part of the system under test runs, the same for every pattern (default shared)')
    .option('--out-of-stock-share <share>', 'share of orders that ask for a scarce SKU, which runs out (default 0.1)')
    .option('--decline-share <share>', 'share of orders from customers who cannot pay (default 0.1)')
    .option('--queue-ack <manual|auto>', 'queue consumers ack after the work (manual, default) or on delivery (auto: loses orders when a consumer dies)')
    .option('--resilience <none|default>', 'timeouts, retries with backoff and a circuit breaker on the synchronous hops, and the saga orchestrator\'s retries (default), or every hop and step tried once (none)')
    .option('--out <dir>', 'folder under which results/<timestamp>/ is written (default ./results)')
    .option('--json', 'print the results document on stdout instead of the tables')
    .action(async (flags: RunFlags) => setExit(await runCommand(flags, io)));

  program
    .command('list')
    .description('list the patterns and scenarios')
    .action(() => {
      const lines = ['Patterns:'];
      for (const p of PATTERNS) lines.push(`  ${p.id.padEnd(20)} ${p.summary}`);
      lines.push('', 'Scenarios:');
      for (const s of SCENARIOS) lines.push(`  ${s.id.padEnd(20)} ${s.description}`);
      io.out(`${lines.join('\n')}\n`);
    });

  program
    .command('report')
    .description('render a report from a results.json')
    .argument('<results.json>', 'a results document written by `run`')
    .addOption(new Option('--format <format>', 'report format: md or html').default('md'))
    .option('--output <file>', 'write the report to this file instead of stdout')
    .action((file: string, flags: { format: string; output?: string }) => {
      if (flags.format !== 'md' && flags.format !== 'html') throw new UnknownNameError('--format', flags.format, ['md', 'html']);
      const doc = readResults(file);
      const text = flags.format === 'html' ? renderHtml(doc) : renderMarkdown(doc);
      if (flags.output) {
        const target = resolve(flags.output);
        assertWritableDir('--output', resolve(target, '..'));
        writeFileAtomic(target, text);
        io.err(`report written to ${target}\n`);
      } else io.out(text);
    });

  program
    .command('broker')
    .description('run the embedded AMQP 0-9-1 broker on its own, for any AMQP client, until Ctrl-C')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0: any free port)', '5672')
    .action(async (flags: { port: string }) => {
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65535) throw new InvalidOptionError('--port', flags.port, 'a port number from 0 to 65535');
      let broker;
      try {
        broker = await runBrokerCommand({ port }, (line) => io.err(`${line}\n`));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new InvalidOptionError('--port', flags.port, `a free port (${code})`);
        throw err;
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await broker.close();
    });

  program
    .command('compare')
    .description('compare two results.json side by side')
    .argument('<a.json>', 'the first results document')
    .argument('<b.json>', 'the second results document')
    .action((a: string, b: string) => {
      io.out(`${renderComparison(readResults(a), readResults(b), [a, b])}\n`);
    });

  return program;
}

async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const input: RunOptionsInput = {
    ...(flags.patterns !== undefined && { patterns: flags.patterns }),
    ...(flags.scenarios !== undefined && { scenarios: flags.scenarios }),
    ...(flags.duration !== undefined && { duration: flags.duration }),
    ...(flags.warmup !== undefined && { warmup: flags.warmup }),
    ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
    ...(flags.rate !== undefined && { rate: flags.rate }),
    ...(flags.trials !== undefined && { trials: flags.trials }),
    ...(flags.seed !== undefined && { seed: flags.seed }),
    ...(flags.broker !== undefined && { broker: flags.broker }),
    ...(flags.eventStore !== undefined && { eventStore: flags.eventStore }),
    ...(flags.placement !== undefined && { placement: flags.placement }),
    ...(flags.outOfStockShare !== undefined && { outOfStockShare: flags.outOfStockShare }),
    ...(flags.declineShare !== undefined && { declineShare: flags.declineShare }),
    ...(flags.queueAck !== undefined && { queueAck: flags.queueAck }),
    ...(flags.resilience !== undefined && { resilience: flags.resilience }),
    ...(flags.out !== undefined && { out: flags.out }),
    quick: flags.quick ?? false,
  };
  const config = resolveRunConfig(input); // throws before anything starts or is written
  await preflight(config); // an unreachable --broker or --event-store is bad input too

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.err('\ninterrupted: finishing the current run, then writing the results as aborted (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  const runner = new Runner(config);
  attachProgress(runner, io);
  let doc: ResultsDocument;
  try {
    doc = await runner.run({ signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (config.outDir) {
    const folder = writeResultsFolder(config.outDir, timestampName(new Date(doc.startedAt)), {
      'results.json': `${JSON.stringify(doc, null, 2)}\n`,
      'report.md': renderMarkdown(doc),
    });
    io.err(`results written to ${folder}/results.json and report.md\n`);
  }
  io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderTables(doc)}\n`);
  if (doc.state === 'aborted') return 130;
  return doc.runs.some((r) => r.state === 'errored') ? 1 : 0;
}

/** Progress on stderr, driven by the runner's events. */
function attachProgress(runner: Runner, io: CliIo): void {
  const label = (r: { index: number; total: number; pattern: string; scenario: string; trial: number }) =>
    `[${r.index}/${r.total}] ${r.pattern} · ${r.scenario}${runner.config.trials > 1 ? ` · trial ${r.trial}` : ''}`;
  runner.on('run-start', (r) => io.err(`${label(r)} starting\n`));
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

function readResults(file: string): ResultsDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidResultsFileError(file, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InvalidResultsFileError(file, 'not JSON');
  }
  const candidate = doc as Partial<ResultsDocument> | null;
  if (!candidate || typeof candidate !== 'object' || candidate.schemaVersion !== 1 || !Array.isArray(candidate.runs)) {
    throw new InvalidResultsFileError(file, 'not a pattern-bench results document (schemaVersion 1)');
  }
  return candidate as ResultsDocument;
}

/** Run the CLI with `argv` (without node and script). Resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors are bad input: 2.
      if (err.exitCode === 0) return 0;
      io.err(`pattern-bench: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    if (err instanceof PatternBenchError) {
      io.err(`pattern-bench: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`pattern-bench: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // The bin is reached through a symlink (node_modules/.bin); compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // exitCode, not exit(): the process ends by itself once every handle is closed, so a
  // leaked socket or timer shows up as a run that does not end.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
