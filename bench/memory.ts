/**
 * npm run bench:memory — peak resident memory of `pattern-bench run`, per phase.
 *
 * Runs the CLI as a child process (`run --quick --out false` by default; `--full`: the
 * default run, `run --out false`) and follows its progress lines on stderr to tell the
 * phases apart: start-up (until the first run starts), each pattern's capacity run, each
 * measured run, and the end (the report files and the tables, until the process exits). The peak of
 * each phase is the kernel's high-water mark of the child's resident set (VmHWM in
 * /proc/<pid>/status, the figure /usr/bin/time reports), reset at every phase boundary
 * (`5` written to /proc/<pid>/clear_refs); where that reset is refused, the highest VmRSS
 * sampled every `--interval` ms. Worker threads are threads of the child: their heaps are
 * in its resident set.
 *
 * `--out false` names a folder (./false), so the child runs in a temporary directory that
 * is removed afterwards: the report writing is measured, nothing is left behind.
 *
 *   node dist/bench/memory.js [--full] [--repeat 1] [--interval 5] [-- <more run options>]
 *
 * Linux only (it reads /proc). Exit code 1 when a repeat's peak is above the limit
 * (400 MB quick, 500 MB full), 2 on bad arguments.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The issue's limits on the whole process's peak resident set, MB (10^6 bytes). */
const LIMIT_MB = { quick: 400, full: 500 } as const;

interface Options {
  full: boolean;
  repeat: number;
  intervalMs: number;
  extra: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { full: false, repeat: 1, intervalMs: 5, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--') {
      options.extra = argv.slice(i + 1);
      break;
    }
    if (flag === '--full') {
      options.full = true;
      continue;
    }
    const n = Number(argv[++i]);
    if (flag === '--repeat' && Number.isInteger(n) && n > 0) options.repeat = n;
    else if (flag === '--interval' && n > 0) options.intervalMs = n;
    else {
      console.error(`invalid option ${flag ?? ''} ${JSON.stringify(argv[i] ?? '')}`);
      process.exit(2);
    }
  }
  return options;
}

/** One phase of a run of the CLI and the highest resident set seen in it, kB. */
interface Phase {
  readonly name: string;
  peakKb: number;
  /** A run's orders/s, from its end line. */
  ordersPerSec?: number;
  readonly startedMs: number;
  endedMs: number;
}

/** VmRSS and VmHWM of a process, kB; null once it has gone. */
function status(pid: number): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Reset the process's high-water mark to its current resident set; false where the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * The phase a progress line begins, or null: `[i/N] <pattern> · capacity starting`,
 * `[i/N] <pattern> · <scenario>[ · trial t] starting`, and the end of the last run (the
 * report files and the tables follow).
 */
function phaseOf(line: string): string | null {
  const start = /^\[(\d+)\/(\d+)\] (.+) starting$/.exec(line);
  if (start) {
    const what = start[3] ?? '';
    return what.endsWith(' · capacity') ? `capacity: ${what.slice(0, -' · capacity'.length)}` : `run: ${what}`;
  }
  const end = /^\[(\d+)\/(\d+)\] /.exec(line);
  if (end && end[1] === end[2]) return 'report writing and tables';
  return null;
}

interface Measured {
  phases: Phase[];
  peakKb: number;
  exitCode: number | null;
  hwmReset: boolean;
}

async function measureOnce(cliArgs: readonly string[], intervalMs: number): Promise<Measured> {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const cwd = mkdtempSync(join(tmpdir(), 'pb-memory-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, ...cliArgs], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the CLI');
  const phases: Phase[] = [{ name: 'start-up', peakKb: 0, startedMs: 0, endedMs: 0 }];
  let hwmReset = true;
  let overall = 0;
  const sample = () => {
    const s = status(pid);
    const current = phases[phases.length - 1] as Phase;
    if (s) {
      current.peakKb = Math.max(current.peakKb, hwmReset ? s.hwm : s.rss);
      overall = Math.max(overall, s.hwm);
    }
  };
  const timer = setInterval(sample, intervalMs);
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    // A run's end line: its rate tells how many orders its state held (memory grows with them).
    const rate = /^\[\d+\/\d+\] .+? ([\d,]+) orders\/s/.exec(line);
    if (rate?.[1]) (phases[phases.length - 1] as Phase).ordersPerSec = Number(rate[1].replaceAll(',', ''));
    const name = phaseOf(line);
    if (name === null) return;
    sample();
    const now = performance.now() - t0;
    const last = phases[phases.length - 1] as Phase;
    last.endedMs = now;
    hwmReset &&= resetPeak(pid);
    phases.push({ name, peakKb: 0, startedMs: now, endedMs: now });
    sample();
  });
  const exitCode = await new Promise<number | null>((resolve) => {
    // Once it has exited its memory is gone: the last phase's peak is the last sample's (at most `intervalMs` early).
    child.on('exit', (code) => resolve(code));
  });
  clearInterval(timer);
  (phases[phases.length - 1] as Phase).endedMs = performance.now() - t0;
  rmSync(cwd, { recursive: true, force: true });
  return { phases, peakKb: overall, exitCode, hwmReset };
}

const mb = (kb: number) => (kb * 1024) / 1e6;

function render(m: Measured): string {
  const rows = m.phases.map(
    (p) => `  ${p.name.padEnd(48)}${mb(p.peakKb).toFixed(0).padStart(8)}${((p.endedMs - p.startedMs) / 1000).toFixed(1).padStart(7)}${(p.ordersPerSec?.toLocaleString('en-US') ?? '').padStart(12)}`,
  );
  return [`  ${'phase'.padEnd(48)}${'peak MB'.padStart(8)}${'s'.padStart(7)}${'orders/s'.padStart(12)}`, ...rows].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux') {
    console.error('bench:memory reads /proc: Linux only');
    process.exit(2);
  }
  const cliArgs = ['run', ...(options.full ? [] : ['--quick']), '--out', 'false', ...options.extra];
  const limit = options.full ? LIMIT_MB.full : LIMIT_MB.quick;
  console.log(`# pattern-bench ${cliArgs.join(' ')}: peak resident set per phase (MB = 10^6 bytes), limit ${limit} MB`);
  const peaks: number[] = [];
  for (let r = 1; r <= options.repeat; r++) {
    const m = await measureOnce(cliArgs, options.intervalMs);
    peaks.push(mb(m.peakKb));
    console.log(`\nrepeat ${r}: peak ${mb(m.peakKb).toFixed(0)} MB, exit code ${m.exitCode ?? 'signal'}${m.hwmReset ? '' : ` (VmHWM could not be reset: phase peaks are VmRSS sampled every ${options.intervalMs} ms)`}`);
    console.log(render(m));
  }
  const worst = Math.max(...peaks);
  console.log(`\npeak over ${options.repeat} repeat(s): ${peaks.map((p) => p.toFixed(0)).join(', ')} MB; ${worst <= limit ? 'within' : 'OVER'} the ${limit} MB limit`);
  if (worst > limit) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
