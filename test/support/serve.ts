/**
 * Services started as `pattern-bench serve` processes (the built CLI: `npm run build`
 * first), each marked in its environment so that a test can find, in /proc, any process
 * of its own still alive after they stopped — a child one left behind, whoever it was
 * reparented to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { BIN } from './cli.js';

export interface ServedProcess {
  readonly child: ChildProcess;
  /** The `serving <pattern> <service> … (pid N); Ctrl-C to stop` line. */
  readonly line: string;
  /** The URL after `on ` or `through ` in that line. */
  readonly url: string;
  /** Resolves with the exit code once the process is gone (and reaped). */
  readonly closed: Promise<number | null>;
  err(): string;
}

const SERVING = /^serving \S+ \S+ (?:on|through) (\S+) .*\(pid \d+\); Ctrl-C to stop$/m;

const started: ServedProcess[] = [];

/** SIGKILL whatever a test left running (for afterEach: a failed test stops nothing itself). */
export function killLeftovers(): void {
  for (const s of started.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
}

/** Start `pattern-bench serve args…` with `PB_TEST_MARK=mark` and wait for its `serving …` line. */
export function serve(args: readonly string[], mark: string): Promise<ServedProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PB_TEST_MARK: mark } });
  let err = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const match = SERVING.exec(err);
      if (match?.[1]) {
        const served = { child, line: match[0], url: match[1], closed, err: () => err };
        started.push(served);
        resolve(served);
      }
    });
    void closed.then((code) => reject(new Error(`serve ${args.join(' ')} exited with ${code} before serving:\n${err}`)));
  });
}

/** SIGTERM each, then their exit codes once all are gone. */
export async function terminate(served: readonly ServedProcess[]): Promise<(number | null)[]> {
  for (const s of served) s.child.kill('SIGTERM');
  return Promise.all(served.map((s) => s.closed));
}

/** Processes alive now (zombies are not) whose environment holds `PB_TEST_MARK=mark`. */
export function marked(mark: string): number[] {
  const needle = `PB_TEST_MARK=${mark}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) continue;
      // Field 3 of stat is the state; it follows the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}
