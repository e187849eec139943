/** `--topology`: its values, the placement it implies, and the combinations it refuses — one line, exit 2, nothing written. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/bench/config.js';
import { runMain } from './support/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-topology-options-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runMain(args);

describe('--topology', () => {
  it('defaults to threads with the default placement; processes implies per-service', () => {
    expect(resolveRunConfig({ out: false })).toMatchObject({ topology: 'threads', placement: 'shared' });
    expect(resolveRunConfig({ out: false, topology: 'processes' })).toMatchObject({ topology: 'processes', placement: 'per-service' });
    expect(resolveRunConfig({ out: false, topology: 'processes', placement: 'per-service' })).toMatchObject({ topology: 'processes', placement: 'per-service' });
  });

  const refused: [string[], string][] = [
    [
      ['--topology', 'processes', '--placement', 'same-thread'],
      'pattern-bench: --topology processes and --placement same-thread cannot be used together: each part of the system runs in a child process of its own (per-service); leave --placement out or give per-service\n',
    ],
    [
      ['--topology', 'processes', '--placement', 'shared'],
      'pattern-bench: --topology processes and --placement shared cannot be used together: each part of the system runs in a child process of its own (per-service); leave --placement out or give per-service\n',
    ],
    [['--topology', 'cluster'], 'pattern-bench: invalid value for --topology: "cluster" (expected "threads", "processes")\n'],
  ];
  it.each(refused)('run %j: one line, exit 2, nothing written', async (args, line) => {
    for (const command of ['run', 'sweep']) {
      const r = await cli(command, '--patterns', 'rest', '--out', dir, ...args);
      expect(r).toEqual({ code: 2, out: '', err: line });
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
