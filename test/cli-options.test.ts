/**
 * The run options end to end: each goes from the command line through the runner into
 * results.json, and changes the figure it is there to change (not only `config`). The
 * CLI runs in-process (`main` with a capturing CliIo), short and `--quick`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import { runMain } from './support/cli.js';
import { serviceUrl } from './support/services.js';

const AMQP_URL = serviceUrl('AMQP_URL');
const DATABASE_URL = serviceUrl('DATABASE_URL');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `pattern-bench run --quick --json --out <fresh folder> …args`: exits 0, prints the
 * results document, writes the same document to results.json, and every run completed.
 */
async function runCli(...args: string[]): Promise<CompletedRun[]> {
  const outDir = mkdtempSync(join(dir, 'run-'));
  const { code, out, err } = await runMain(['run', '--quick', '--json', '--out', outDir, ...args]);
  expect(code, err).toBe(0);
  const folders = readdirSync(outDir);
  expect(folders).toHaveLength(1);
  expect(readFileSync(join(outDir, folders[0] as string, 'results.json'), 'utf8')).toBe(out);
  const doc = JSON.parse(out) as ResultsDocument;
  return doc.runs.map((r) => {
    if (r.state !== 'completed') throw new Error(`${r.pattern} · ${r.scenario} ${r.state}: ${JSON.stringify(r)}`);
    return r;
  });
}

async function runOne(...args: string[]): Promise<CompletedRun> {
  const runs = await runCli(...args);
  expect(runs).toHaveLength(1);
  return runs[0] as CompletedRun;
}

/** Every component of each pattern, in start order (docs/architecture.md, "Placement"). */
const COMPONENTS: Readonly<Record<string, readonly string[]>> = {
  rest: ['inventory', 'payments', 'notifications', 'orders'],
  'event-sourcing': ['store', 'orders', 'payments', 'inventory', 'notifications', 'projection'],
};
const PLACED_PATTERNS = Object.keys(COMPONENTS);

const threadsOf = (r: CompletedRun) => r.threads.map((t) => [t.name, t.role, t.components]);
const retryKeys = (r: CompletedRun) => Object.keys(r.hopErrors ?? {}).filter((k) => k.endsWith(':retry'));

describe('--placement: where every part of rest and event-sourcing ran (runs[].transport.placement, runs[].threads)', () => {
  it('same-thread: one thread, main, role generator+system, holding every component; the system shares the generator\'s thread', async () => {
    const runs = await runCli('--patterns', PLACED_PATTERNS.join(','), '--placement', 'same-thread', '--duration', '1');
    expect(runs.map((r) => r.pattern)).toEqual(PLACED_PATTERNS);
    for (const r of runs) {
      expect(r.transport.placement, r.pattern).toBe('same-thread');
      expect(threadsOf(r), r.pattern).toEqual([['main', 'generator+system', COMPONENTS[r.pattern]]]);
      expect(r.cost.system.sharesGeneratorThread, r.pattern).toBe(true);
    }
  }, 60_000);

  it('shared: main with role generator and no component, and one thread, system, holding every component', async () => {
    const runs = await runCli('--patterns', PLACED_PATTERNS.join(','), '--placement', 'shared', '--duration', '1');
    expect(runs.map((r) => r.pattern)).toEqual(PLACED_PATTERNS);
    for (const r of runs) {
      expect(r.transport.placement, r.pattern).toBe('shared');
      expect(threadsOf(r), r.pattern).toEqual([
        ['main', 'generator', []],
        ['system', 'system', COMPONENTS[r.pattern]],
      ]);
      expect(r.cost.system.sharesGeneratorThread, r.pattern).toBe(false);
    }
  }, 60_000);

  it('per-service: main with role generator, then one system thread per component, named after it and holding only it', async () => {
    const runs = await runCli('--patterns', PLACED_PATTERNS.join(','), '--placement', 'per-service', '--duration', '1');
    expect(runs.map((r) => r.pattern)).toEqual(PLACED_PATTERNS);
    for (const r of runs) {
      expect(r.transport.placement, r.pattern).toBe('per-service');
      expect(threadsOf(r), r.pattern).toEqual([['main', 'generator', []], ...(COMPONENTS[r.pattern] ?? []).map((c) => [c, 'system', [c]])]);
      expect(r.cost.system.sharesGeneratorThread, r.pattern).toBe(false);
    }
  }, 60_000);
});

describe('--resilience on rest under the payments outage, open loop at 100 orders/s for 1.5 s', () => {
  let none: CompletedRun;
  let standard: CompletedRun;
  beforeAll(async () => {
    const args = ['--patterns', 'rest', '--scenarios', 'outage', '--rate', '100', '--duration', '1.5'];
    none = await runOne(...args, '--resilience', 'none');
    standard = await runOne(...args, '--resilience', 'default');
  }, 60_000);

  it('both runs start exactly 150 orders in the window and fail some with downstream_error, the only error kind', () => {
    for (const r of [none, standard]) {
      expect(r.outcomes.placed).toBe(150);
      expect(r.outcomes.failed).toBeGreaterThan(0);
      expect(r.errors).toEqual({ downstream_error: r.outcomes.failed });
    }
  });

  it('default: the orders service retried charges (hopErrors charge:retry > 0)', () => {
    expect(standard.hopErrors?.['charge:retry']).toBeGreaterThan(0);
  });

  it('none: no hop error is a retry (no :retry key in hopErrors), and the charges failed (charge:* > 0)', () => {
    expect(retryKeys(none)).toEqual([]);
    expect(Object.entries(none.hopErrors ?? {}).filter(([k]) => k.startsWith('charge:')).reduce((n, [, v]) => n + v, 0)).toBeGreaterThan(0);
  });

  // A 450 ms outage outlasts the charge's retries (20–200 ms of backoff): what the default policy
  // adds is its breaker, which opens during the outage and refuses calls until it half-opens.
  it('default: the breaker opened during the outage and refused calls without trying them; none has no breaker', () => {
    expect(standard.hopErrors?.['charge:breaker-open']).toBeGreaterThanOrEqual(1);
    expect(standard.hopErrors?.['charge:short-circuited']).toBeGreaterThan(0);
    expect(standard.hopErrors?.['charge:CIRCUIT_OPEN']).toBe(standard.hopErrors?.['charge:short-circuited']);
    expect(Object.keys(none.hopErrors ?? {}).filter((k) => /breaker|short-circuited|CIRCUIT_OPEN/.test(k))).toEqual([]);
  });
});

describe('--queue-ack on queue when inventory crashes mid-batch, open loop at 100 orders/s for 1.5 s', () => {
  it('manual: the invariants are ok with 0 stuck and 0 lost, every order answered, and the redelivered work absorbed (duplicatesAbsorbed > 0)', async () => {
    const r = await runOne('--patterns', 'queue', '--scenarios', 'crash', '--rate', '100', '--duration', '1.5', '--queue-ack', 'manual');
    expect(r.outcomes).toMatchObject({ placed: 150, failed: 0, timedOut: 0 });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    expect(r.invariants.duplicatesAbsorbed).toBeGreaterThan(0);
  }, 60_000);

  // The order the crash took never settles: the run waits out its drain timeouts (about 20 s).
  it('auto: the invariants are broken, with orders stuck or lost (stuck + lost > 0)', async () => {
    const r = await runOne('--patterns', 'queue', '--scenarios', 'crash', '--rate', '100', '--duration', '1.5', '--queue-ack', 'auto');
    expect(r.outcomes.placed).toBe(150);
    expect(r.invariants.ok).toBe(false);
    expect(r.invariants.stuck + r.invariants.lost).toBeGreaterThan(0);
  }, 90_000);
});

describe('external services', () => {
  it.skipIf(AMQP_URL === undefined)('--broker <AMQP_URL>: queue names RabbitMQ as its broker, places no broker component, and keeps its invariants', async () => {
    const r = await runOne('--patterns', 'queue', '--broker', AMQP_URL ?? '', '--duration', '1');
    expect(r.transport.broker).toMatch(/^RabbitMQ \d/);
    expect(r.threads.flatMap((t) => t.components)).toEqual(['orders', 'inventory', 'payments', 'notifications']);
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
  }, 60_000);

  it.skipIf(DATABASE_URL === undefined)(
    '--event-store <DATABASE_URL>: event-sourcing reports eventStore postgres, a PostgreSQL protocol, bytes/order excluding PostgreSQL, no placed store, and keeps its invariants',
    async () => {
      const r = await runOne('--patterns', 'event-sourcing', '--event-store', DATABASE_URL ?? '', '--duration', '1');
      expect(r.projection?.eventStore).toBe('postgres');
      expect(r.transport.protocol).toContain('PostgreSQL');
      expect(r.transport.wireExcludes).toBe('PostgreSQL');
      expect(r.threads.flatMap((t) => t.components)).toEqual(['orders', 'payments', 'inventory', 'notifications', 'projection']);
      expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0 });
    },
    60_000,
  );
});

// The results have no cancel-reason breakdown: a cancelled order is out of stock or declined
// (downstream_error counts as failed). With --decline-share 0 no order comes from a customer
// who cannot pay, so every cancelled one is out of stock. The scarce SKUs (12 units in all)
// run out within the first few orders, most of them in the 100 ms ramp before the window,
// so the window's cancelled share is about the out-of-stock share plus the decline share.
describe('--out-of-stock-share and --decline-share on direct, open loop at 1000 orders/s for 1 s', () => {
  it('0.3 and 0: exactly 1000 orders, none failed, and the cancelled share is 0.3 ± 0.05', async () => {
    const r = await runOne('--patterns', 'direct', '--rate', '1000', '--duration', '1', '--out-of-stock-share', '0.3', '--decline-share', '0');
    expect(r.outcomes).toMatchObject({ placed: 1000, failed: 0, timedOut: 0 });
    expect(r.errors).toEqual({});
    expect(r.outcomes.confirmed + r.outcomes.cancelled).toBe(1000);
    expect(Math.abs(r.outcomes.cancelled / 1000 - 0.3)).toBeLessThanOrEqual(0.05);
  }, 60_000);

  it('the defaults (0.1 and 0.1): exactly 1000 orders, none failed, and the cancelled share is 0.2 ± 0.05', async () => {
    const r = await runOne('--patterns', 'direct', '--rate', '1000', '--duration', '1');
    expect(r.outcomes).toMatchObject({ placed: 1000, failed: 0, timedOut: 0 });
    expect(r.errors).toEqual({});
    expect(r.outcomes.confirmed + r.outcomes.cancelled).toBe(1000);
    expect(Math.abs(r.outcomes.cancelled / 1000 - 0.2)).toBeLessThanOrEqual(0.05);
  }, 60_000);
});
