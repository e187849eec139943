/** `pattern-bench compare` on constructed results files: a refusal prints what differs on stderr and exits 2. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import { completedRun, latency, resultsDoc } from './support/results.js';
import { runMain } from './support/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-compare-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runMain(args);

const trials = (n: number): CompletedRun[] =>
  Array.from({ length: n }, (_, i) => completedRun({ trial: i + 1, throughput: { target: null, offered: null, achieved: 1000 + i }, latencyMs: latency(5, 20) }));

function write(name: string, doc: ResultsDocument): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('pattern-bench compare, different configs', () => {
  // --rate 300 on a 2-CPU machine against --rate 400 on 8 CPUs and another Node.js.
  const old = resultsDoc(trials(3), { rate: 300 });
  const neu: ResultsDocument = { ...resultsDoc(trials(3), { rate: 400 }), environment: { ...old.environment, cpus: 8, node: 'v22.1.0' } };
  // What differs, as both the refusal and the forced comparison list it.
  const DIFFERENCES = ['differences, old → new:', '  CPUs: 2 × test cpu → 8 × test cpu', '  Node: v20.20.2 → v22.1.0', '  load.rate: 300 → 400'];

  it('refuses without --force: one line naming the key, then every difference old → new on stderr, exit 2, nothing on stdout or disk', async () => {
    const r = await cli('compare', write('old.json', old), write('new.json', neu));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      [
        'pattern-bench: the two results were measured with different configs (load.rate); pass --force to compare them anyway',
        ...DIFFERENCES,
        '',
      ].join('\n'),
    );
    expect(readdirSync(dir).sort()).toEqual(['new.json', 'old.json']);
  });

  it('compares with --force and ends with the same differences, then the warning', async () => {
    const r = await cli('compare', '--force', write('old.json', old), write('new.json', neu));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(
      [
        ...DIFFERENCES,
        'warning: the configs differ (load.rate); compared anyway (--force), so a change may come from the config rather than the pattern',
        '',
      ].join('\n'),
    );
  });
});
