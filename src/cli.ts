#!/usr/bin/env node
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { assertWritableDir, DEFAULTS } from './bench/config.js';
import { writeFileAtomic } from './bench/results.js';
import { runBrokerCommand } from './broker/command.js';
import { InvalidOptionError, PatternBenchError, UnknownNameError } from './errors.js';
import { DEFAULT_SCENARIOS, SCENARIOS } from './faults/scenarios/registry.js';
import { DEFAULT_PATTERNS, PATTERNS } from './patterns/registry.js';
import { renderMarkdown } from './report/markdown.js';
import { renderHtml } from './report/html.js';
import { planCharts, renderCharts } from './report/charts/index.js';
import { renderComparison } from './report/compare.js';
import { processIo, readResults, type CliIo } from './cli/io.js';
import { runCommand, type RunFlags } from './cli/run-command.js';
import { SERVABLE, serveCommand, type ServeFlags } from './cli/serve-command.js';
import { sweepCommand, type SweepFlags } from './cli/sweep-command.js';
import { traceCommand, type TraceFlags } from './cli/trace-command.js';

export type { CliIo } from './cli/io.js';

/** --patterns' help: the default set, then every known pattern (`list` describes them). */
const PATTERNS_HELP = `comma-separated patterns (default: ${DEFAULT_PATTERNS.join(',')}; known: ${PATTERNS.map((p) => p.id).join(',')})`;

/** The options `run` and `sweep` share. */
function commonOptions(command: Command): Command {
  return command
    .option('--patterns <list>', PATTERNS_HELP)
    .option('--warmup <seconds>', 'least warm-up before each run; it goes on until throughput settles, up to 2 s (default 0.5; 0.3 with --quick, up to 0.4 s)')
    .option('--seed <n>', 'seed of every random choice (default 42)')
    .option('--broker <embedded|amqp://…>', 'message broker for the queue and choreography patterns (default embedded)')
    .option('--event-store <memory|postgres://…>', 'event store for event sourcing and the saga log (default memory)')
    .option('--placement <same-thread|shared|per-service>', 'where every part of the system under test runs, the same for every pattern (default shared)')
    .option('--topology <threads|processes>', 'threads: the system under test in this process (default); processes: each service, the broker, each processor and the orchestrator in a child process of its own (placement per-service)')
    .option('--out-of-stock-share <share>', 'share of orders that ask for a scarce SKU, which runs out (default 0.1)')
    .option('--decline-share <share>', 'share of orders from customers who cannot pay (default 0.1)')
    .option('--queue-ack <manual|auto>', 'queue consumers ack after the work (manual, default) or on delivery (auto: loses orders when a consumer dies)')
    .option('--resilience <none|default>', "timeouts, retries with backoff and a circuit breaker on the synchronous hops, and the saga orchestrator's retries (default), or every hop and step tried once (none)")
    .option('--out <dir>', 'folder under which results/<timestamp>/ is written (default ./results)')
    .option('--json', 'print the results document on stdout instead of the tables')
    .option('--wide', 'print the full tables, as wide as they are, instead of tables that fit 100 columns')
    .option('--no-color', 'no colour in the progress bar (also: the NO_COLOR variable, or stderr not a terminal)');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('pattern-bench')
    .description('Run one order workflow over REST, gRPC, a queue, event sourcing and sagas; compare throughput, latency and failure behaviour.')
    .version('0.1.0')
    // Usage errors are printed by main() as one line; help and version go to stdout.
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .exitOverride();

  commonOptions(
    program
      .command('run')
      .description('benchmark the patterns: capacity, then every pattern at one equal open-loop rate; write results/<timestamp>/results.json and report.md'),
  )
    .option('--scenarios <list>', `comma-separated scenarios (default: ${DEFAULT_SCENARIOS.join(',')}; baseline with --quick; known: ${SCENARIOS.map((s) => s.id).join(',')})`)
    .option('--duration <seconds>', 'measured time per run (default 3; 1 with --quick)')
    .option('--rate <orders/s>', `open loop at this rate for every pattern, no capacity phase (default: ${DEFAULTS.equalLoadFraction * 100}% of the slowest pattern's measured capacity)`)
    .option('--concurrency <n>', 'closed loop with this many orders in flight instead (latency without coordinated-omission correction)')
    .option('--trials <n>', 'repeat each pattern × scenario, interleaved; tables show percentiles of the merged trials and intervals (default 1)')
    .option('--threshold <expr>', "fail with exit code 3 unless it holds, e.g. 'rest.p99<20ms', '*.success>=99.9%', 'queue.lost==0' (repeatable)", collect)
    .option('--quick', 'short runs of the baseline scenario, for a first look or a workshop laptop')
    .option('--read-share <share>', "share of the measured operations that read a random customer's orders instead of placing one (0 to less than 1; default 0)")
    .option('--trace-sample <share>', 'trace this share of the measured orders (0 to 1; default 0: only two orders per pattern, traced before measuring, for the report\'s sequence diagrams); the report shows what tracing cost')
    .option('--otlp <url>', 'send the traced orders\' spans to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318; /v1/traces is added when no path is given)')
    .action(async (flags: RunFlags) => setExit(await runCommand(flags, io)));

  commonOptions(
    program
      .command('sweep')
      .description("step each pattern's offered rate up geometrically until it saturates; print the throughput–latency curve and the knee"),
  )
    .option('--slo <ms>', `latency objective: the knee is the highest rate whose p99 stays within it (default ${DEFAULTS.sloMs})`)
    .option('--quick', 'shorter steps and a smaller time budget')
    .action(async (flags: SweepFlags) => setExit(await sweepCommand(flags, io)));

  program
    .command('trace')
    .description('place one traced order per pattern (default: one confirmed, one out of stock, which refunds) and print its journey: every span with service, operation, ms and bytes')
    .option('--patterns <list>', PATTERNS_HELP)
    .option('--outcome <confirmed|declined|out-of-stock>', 'the one kind of order to trace (default: confirmed and out-of-stock)')
    .option('--format <text|mermaid|json>', 'a table per order, a Mermaid sequenceDiagram per pattern, or the spans as JSON (default text)')
    .option('--seed <n>', 'seed of the orders (default 42)')
    .option('--scenario <id>', `play a scenario and place each order inside its fault (known: ${SCENARIOS.map((s) => s.id).join(',')})`)
    .option('--otlp <url>', 'also send the spans to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318; /v1/traces is added when no path is given)')
    .action(async (flags: TraceFlags) => setExit(await traceCommand(flags, io)));

  program
    .command('list')
    .description('list the patterns and scenarios')
    .action(() => {
      // `*`: in the default set (run when --patterns is not given); the others only when named.
      const lines = ['Patterns (* = run by default; the others only when --patterns names them):'];
      for (const p of PATTERNS) lines.push(`${DEFAULT_PATTERNS.includes(p.id) ? '*' : ' '} ${p.id.padEnd(20)} ${p.summary}`);
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
    .action(async (file: string, flags: { format: string; output?: string }) => {
      if (flags.format !== 'md' && flags.format !== 'html') throw new UnknownNameError('--format', flags.format, ['md', 'html']);
      const doc = readResults(file);
      // Markdown embeds the charts `run` wrote beside the results file (by name, as report.md does).
      const beside = planCharts(doc).filter((c) => existsSync(join(dirname(resolve(file)), `${c.id}.svg`)));
      const text =
        flags.format === 'html'
          ? renderHtml(doc, await renderCharts(doc))
          : renderMarkdown(doc, { charts: beside.map((c) => ({ id: c.id, title: c.title, file: `${c.id}.svg` })) });
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
    .command('serve')
    .description(`run one service of one pattern as its own process until Ctrl-C, for taking a pattern onto several machines (patterns: ${Object.keys(SERVABLE).join(', ')}; see docs/processes.md)`)
    .requiredOption('--pattern <id>', `the pattern (servable: ${Object.keys(SERVABLE).join(', ')})`)
    .requiredOption('--service <name>', "the service of the pattern to run — rest, grpc, grpc-stream, queue, saga-choreography: orders, inventory, payments or notifications; event-sourcing: orders, projection, payments, inventory, notifications or event-store; saga-orchestration: orchestrator, inventory, payments, notifications or event-store")
    .option('--host <address>', 'a service that listens (all but the processors of event-sourcing and the services of queue and saga-choreography): address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--port <port>', 'a service that listens: TCP port (default 0: any free port; the line on stderr names it)')
    .option('--peer <name=url>', 'where a service this one calls listens, e.g. payments=http://10.0.0.2:8082 (repeatable; rest, grpc: orders needs inventory, payments, notifications; saga-orchestration: the orchestrator needs the same three)', collect)
    .option('--broker <amqp://…>', 'queue, saga-choreography: the broker every service connects to (RabbitMQ, or `pattern-bench broker`)')
    .option('--event-store <pbes://…|postgres://…>', 'event-sourcing (every service but event-store), saga-orchestration (the orchestrator: its saga log; default memory, its own): the embedded store of `serve --service event-store`, or PostgreSQL (schema pattern_bench_serve)')
    .option('--seed <n>', "seed of the service's own random draws: retry jitter (default 42)")
    .option('--resilience <none|default>', "orders' timeouts, retries and breaker on its calls (rest, grpc), the orchestrator's retries (saga-orchestration): default, or none")
    .action(async (flags: ServeFlags) => setExit(await serveCommand(flags, io)));

  program
    .command('compare')
    .description('compare two results.json, judged like benchstat: delta, Mann–Whitney p-value over the trials, "~" where it may be noise')
    .argument('<old.json>', 'the first results document')
    .argument('<new.json>', 'the second results document')
    .option('--force', 'compare runs of different configs')
    .action((a: string, b: string, flags: { force?: boolean }) => {
      io.out(`${renderComparison(readResults(a), readResults(b), [a, b], { force: flags.force === true })}\n`);
    });

  return program;
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
