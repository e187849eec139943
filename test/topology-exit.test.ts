/**
 * `run --topology processes` leaves no child process behind, however it ends: at the end
 * of the run, after Ctrl-C (SIGINT to the whole process group, as a terminal sends it),
 * and when the parent is killed outright (SIGKILL: the children see the IPC channel close
 * and exit). The built CLI, as a user runs it (`npm run build` first).
 *
 * Its children are found in /proc by a marker in their environment (they inherit the
 * parent's), so they are found after the parent is gone, whoever they were reparented to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './support/cli.js';
import { marked } from './support/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-topology-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN = ['run', '--quick', '--topology', 'processes', '--patterns', 'rest'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  readonly child: ChildProcess;
  readonly mark: string;
  readonly closed: Promise<number | null>;
  err(): string;
}

function start(name: string, options: { detached?: boolean } = {}): Started {
  const mark = `${name}-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, [BIN, ...RUN, '--out', join(dir, name)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PB_TEST_MARK: mark },
    detached: options.detached === true,
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, mark, closed, err: () => err };
}

/** The run's children (every process with the mark but the CLI itself), once there are `n`. */
async function children(s: Started, n: number): Promise<number[]> {
  for (;;) {
    const pids = marked(s.mark).filter((p) => p !== s.child.pid);
    if (pids.length >= n) return pids;
    if (s.child.exitCode !== null) throw new Error(`the run ended before it had ${n} children:\n${s.err()}`);
    await sleep(50);
  }
}

/** Wait until the run's progress shows `text` (stderr). */
async function shown(s: Started, text: string): Promise<void> {
  while (!s.err().includes(text)) {
    if (s.child.exitCode !== null) throw new Error(`the run ended before it showed ${text}:\n${s.err()}`);
    await sleep(20);
  }
}

/** Wait until none of `pids` is alive (the test's timeout bounds it). */
async function gone(mark: string): Promise<void> {
  while (marked(mark).length > 0) await sleep(50);
}

describe.skipIf(process.platform !== 'linux')('run --topology processes leaves no child behind', () => {
  it('when the run ends: every service ran in a child of its own, and none is left at exit', async () => {
    const s = start('end');
    const pids = await children(s, 4);
    expect(pids).toHaveLength(4); // rest: inventory, payments, notifications, orders
    expect(await s.closed).toBe(0);
    // The parent waited for its children before it exited.
    expect(marked(s.mark)).toEqual([]);
    expect(s.err()).toContain('invariants OK');
  }, 90_000);

  it('after Ctrl-C (SIGINT to the process group): the run is aborted, the children stopped, exit 130', async () => {
    const s = start('sigint', { detached: true });
    await children(s, 4);
    await shown(s, '[2/2] rest · baseline starting'); // the measured run, after capacity
    process.kill(-(s.child.pid as number), 'SIGINT');
    expect(await s.closed).toBe(130);
    expect(s.err()).toContain('interrupted');
    expect(marked(s.mark)).toEqual([]);
  }, 90_000);

  it('after the parent is killed (SIGKILL): the children see the IPC channel close and exit', async () => {
    const s = start('sigkill');
    const pids = await children(s, 4);
    await shown(s, '[2/2] rest · baseline starting'); // mid-run: the measured run, after capacity
    s.child.kill('SIGKILL');
    expect(await s.closed).toBe(null);
    await gone(s.mark);
    expect(marked(s.mark).filter((p) => pids.includes(p))).toEqual([]);
  }, 90_000);
});
