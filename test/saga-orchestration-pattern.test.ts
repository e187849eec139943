import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_STORES } from './support/stores.js';
import { sagaOrchestrationPattern } from '../src/patterns/saga-orchestration/index.js';
import { isCompensationReporter, isCrashable, isSagaStats, type RunningPattern } from '../src/patterns/types.js';
import { loadAndCheck, startPattern } from './support/pattern.js';

const STORES = EVENT_STORES;

let running: RunningPattern | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(STORES)('saga orchestration over gRPC, saga log in %s', (eventStore) => {
  it('keeps every invariant and compensates the stock-outs', async () => {
    // No stock on the scarce SKUs: stock-outs from the first orders, however few a loaded machine places.
    const started = await startPattern(sagaOrchestrationPattern, { eventStore }, undefined, 42, undefined, { scarceStock: 0 });
    running = started.running;
    expect(running.transport.protocol).toBe('HTTP/2 (gRPC)');
    const r = await loadAndCheck(running, started.generator, { durationMs: 800 });
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, doubleCharged: 0, leakedCharges: 0, leakedReservations: 0 });
    if (!isCompensationReporter(running)) throw new Error('the orchestrated saga reports compensation latency');
    expect((await running.compensation()).count).toBeGreaterThan(0);
  });

  it('an orchestrator killed mid-run restarts from its log: every saga terminal, none compensated twice', async () => {
    const started = await startPattern(sagaOrchestrationPattern, { eventStore });
    running = started.running;
    const target = running;
    if (!isCrashable(target) || !isSagaStats(target)) throw new Error('the orchestrated saga can crash its orchestrator');
    expect(target.canCrash('orchestrator')).toBe(true);
    expect(target.canCrash('inventory')).toBe(true);
    expect(target.canCrash('shipping')).toBe(false);
    // Crash while sagas are mid-flight (not in a lull a loaded machine may cause), and count them.
    let runningAtCrash = 0;
    const crashMidSaga = async () => {
      for (let tries = 0; tries < 200; tries++) {
        runningAtCrash = (await target.sagaStats()).running;
        if (runningAtCrash > 0) return target.crash('orchestrator');
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error('no saga was running to crash');
    };
    const r = await loadAndCheck(target, started.generator, { durationMs: 1200, at: { ms: 400, action: crashMidSaga } });
    expect(runningAtCrash).toBeGreaterThan(0);
    expect(r.invariants).toMatchObject({ ok: true, stuck: 0, lost: 0, doubleCharged: 0, leakedCharges: 0 });
    expect(r.failed).toBe(0);
    expect((await target.sagaStats()).resumed).toBeGreaterThan(0);
    const refunds = (await target.snapshot()).payments.ledger.filter((e) => e.kind === 'refund').map((e) => e.orderId);
    expect(new Set(refunds).size).toBe(refunds.length);
  });
});
