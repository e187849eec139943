import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { main, type CliIo } from '../../src/cli.js';

/** The real binary, as a user runs it (`npm run build` first): it must exit by itself (no handle left open). */
export const BIN = resolve(import.meta.dirname, '../../dist/src/cli.js');

export interface CliRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Run `pattern-bench args…` in a child process; rejects (after killing it) when it has not exited within `timeoutMs`. */
export function runBinary(args: readonly string[], timeoutMs: number): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pattern-bench ${args.join(' ')} did not exit within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

/** Run `pattern-bench args…` in this process (`main`, not a terminal): its exit code and what it wrote. */
export async function runMain(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), interactive: false };
  const code = await main([...args], io);
  return { code, out, err };
}
