import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../src/faults/scenarios/registry.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { runMain } from './support/cli.js';

const PATTERN_IDS = PATTERNS.map((p) => p.id).join(', ');
const SCENARIO_IDS = SCENARIOS.map((s) => s.id).join(', ');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runMain(args);

describe('bad input: one line naming the option and the value, exit 2, nothing written', () => {
  const cases: [string[], string][] = [
    [['--patterns', 'soap'], 'pattern-bench: unknown value for --patterns: "soap" (known: '],
    [['--scenarios', 'meteor'], 'pattern-bench: unknown value for --scenarios: "meteor" (known: '],
    [['--duration', '-1'], 'pattern-bench: invalid value for --duration: "-1" (expected a number of seconds > 0)'],
    [['--duration', '0'], 'pattern-bench: invalid value for --duration: "0" (expected a number of seconds > 0)'],
    [['--duration', 'ten'], 'pattern-bench: invalid value for --duration: "ten" (expected a number of seconds > 0)'],
    [['--warmup', '-0.5'], 'pattern-bench: invalid value for --warmup: "-0.5" (expected a number of seconds ≥ 0)'],
    [['--rate', 'fast'], 'pattern-bench: invalid value for --rate: "fast" (expected orders per second > 0)'],
    [['--rate', '-5'], 'pattern-bench: invalid value for --rate: "-5" (expected orders per second > 0)'],
    [['--rate', '0x10'], 'pattern-bench: invalid value for --rate: "0x10" (expected orders per second > 0)'],
    [['--concurrency', '0'], 'pattern-bench: invalid value for --concurrency: "0" (expected an integer from 1 to 10000)'],
    [['--concurrency', '2.5'], 'pattern-bench: invalid value for --concurrency: "2.5" (expected an integer from 1 to 10000)'],
    [['--concurrency', 'many'], 'pattern-bench: invalid value for --concurrency: "many" (expected an integer from 1 to 10000)'],
    [['--rate', '100', '--concurrency', '4'], 'pattern-bench: --rate and --concurrency cannot be used together: choose an open loop (--rate) or a closed loop (--concurrency)'],
    [['--trials', '0'], 'pattern-bench: invalid value for --trials: "0" (expected an integer from 1 to 100)'],
    [['--seed', '-3'], 'pattern-bench: invalid value for --seed: "-3" (expected an integer from 0 to 4294967295)'],
    [['--broker', 'ftp://x'], 'pattern-bench: invalid value for --broker: "ftp://x" (expected "embedded" or an amqp:// URL)'],
    [['--event-store', 'mysql://x'], 'pattern-bench: invalid value for --event-store: "mysql://x" (expected "memory" or a postgres:// URL)'],
    [['--queue-ack', 'sometimes'], 'pattern-bench: invalid value for --queue-ack: "sometimes" (expected "manual" or "auto")'],
    [['--patterns', 'queue', '--broker', 'amqp://guest:guest@127.0.0.1:1'], 'pattern-bench: cannot reach --broker "amqp://guest:guest@127.0.0.1:1": ECONNREFUSED'],
    [['--resilience', 'maximum'], 'pattern-bench: invalid value for --resilience: "maximum" (expected "none" or "default")'],
    [['--placement', 'moon'], 'pattern-bench: invalid value for --placement: "moon" (expected "same-thread", "shared", "per-service")'],
    [['--patterns', 'rest,,grpc'], `pattern-bench: invalid value for --patterns: "rest,,grpc" (expected a comma-separated list of: ${PATTERN_IDS}, with no empty item)`],
    [['--patterns', 'rest,grpc,rest'], `pattern-bench: invalid value for --patterns: "rest,grpc,rest" (expected a comma-separated list of: ${PATTERN_IDS}, each once (rest is listed twice))`],
    [['--scenarios', 'baseline,'], `pattern-bench: invalid value for --scenarios: "baseline," (expected a comma-separated list of: ${SCENARIO_IDS}, with no empty item)`],
    [['--scenarios', 'outage,outage'], `pattern-bench: invalid value for --scenarios: "outage,outage" (expected a comma-separated list of: ${SCENARIO_IDS}, each once (outage is listed twice))`],
    [['--out-of-stock-share', '1.5'], 'pattern-bench: invalid value for --out-of-stock-share: "1.5" (expected a share from 0 to 1)'],
    [['--decline-share', 'some'], 'pattern-bench: invalid value for --decline-share: "some" (expected a share from 0 to 1)'],
    [['--read-share', '-1'], 'pattern-bench: invalid value for --read-share: "-1" (expected a share from 0 to less than 1)'],
    [['--read-share', '1'], 'pattern-bench: invalid value for --read-share: "1" (expected a share from 0 to less than 1)'],
    [['--read-share', 'abc'], 'pattern-bench: invalid value for --read-share: "abc" (expected a share from 0 to less than 1)'],
    [['--out-of-stock-share', '0.6', '--decline-share', '0.5'], 'pattern-bench: --out-of-stock-share and --decline-share cannot be used together: their sum 1.1 is over 1'],
    [['--threshold', 'rest.p99<20ms', '--threshold', 'rest.p99<20ms'], 'pattern-bench: invalid value for --threshold: "rest.p99<20ms" (expected each expression once (it is given twice))'],
    [['--threshold', '*.lost==0', '--threshold', 'rest.p99<20ms', '--threshold', ' *.lost == 0'], 'pattern-bench: invalid value for --threshold: " *.lost == 0" (expected each expression once (it is given twice))'],
  ];

  for (const [args, line] of cases) {
    it(`run ${args.join(' ')}`, async () => {
      const out = join(dir, 'out');
      const r = await cli('run', ...args, '--out', out);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.endsWith('\n')).toBe(true);
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err.startsWith(line)).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('run --out under a file', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const r = await cli('run', '--quick', '--out', join(file, 'sub'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`pattern-bench: cannot write to --out ${JSON.stringify(join(file, 'sub'))}: ${file} is not a folder\n`);
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('an unknown option is a usage error', async () => {
    const r = await cli('run', '--speed', '3');
    expect(r.code).toBe(2);
    expect(r.err).toBe("pattern-bench: unknown option '--speed' (Did you mean --seed?)\n");
  });

  it('report of a missing or foreign file', async () => {
    const missing = await cli('report', join(dir, 'none.json'));
    expect(missing).toEqual({ code: 2, out: '', err: `pattern-bench: cannot read results file ${JSON.stringify(join(dir, 'none.json'))}: ENOENT\n` });
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '{"hello": 1}');
    const r = await cli('report', foreign);
    expect(r.err).toBe(`pattern-bench: cannot read results file ${JSON.stringify(foreign)}: not a pattern-bench results document (schemaVersion 1)\n`);
    expect(r.code).toBe(2);
  });

  // sweep and trace check --patterns with run's names(): an empty item or one given twice is refused, not dropped.
  const listCases: [string, string, string][] = [
    ['sweep', 'rest,,grpc', 'with no empty item'],
    ['sweep', 'rest,grpc,rest', 'each once (rest is listed twice)'],
    ['trace', 'rest,,grpc', 'with no empty item'],
    ['trace', 'rest,grpc,rest', 'each once (rest is listed twice)'],
  ];
  for (const [command, value, detail] of listCases) {
    it(`${command} --patterns ${value}`, async () => {
      const args = command === 'sweep' ? ['sweep', '--patterns', value, '--quick', '--out', join(dir, 'out')] : ['trace', '--patterns', value];
      const r = await cli(...args);
      expect(r).toEqual({ code: 2, out: '', err: `pattern-bench: invalid value for --patterns: ${JSON.stringify(value)} (expected a comma-separated list of: ${PATTERN_IDS}, ${detail})\n` });
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('serve --peer with one name twice', async () => {
    const r = await cli('serve', '--pattern', 'rest', '--service', 'orders', '--peer', 'inventory=http://127.0.0.1:8081', '--peer', 'payments=http://127.0.0.1:8082', '--peer', 'inventory=http://127.0.0.1:8089');
    expect(r).toEqual({ code: 2, out: '', err: 'pattern-bench: invalid value for --peer: "inventory=http://127.0.0.1:8089" (expected each peer once (inventory is given twice))\n' });
  });

  it('report --format pdf', async () => {
    const r = await cli('report', 'x.json', '--format', 'pdf');
    expect(r).toEqual({ code: 2, out: '', err: 'pattern-bench: unknown value for --format: "pdf" (known: md, html)\n' });
  });
});
