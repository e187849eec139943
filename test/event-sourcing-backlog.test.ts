/** The event-sourcing backlog is the true peak: the slowest subscriber's distance to the head of the log, uncapped. */
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/bench/loadgen.js';
import { eventSourcingPattern, type EventSourcingSystem } from '../src/patterns/event-sourcing/index.js';
import { startPattern } from './support/pattern.js';

let running: EventSourcingSystem | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('event-sourcing backlog', () => {
  it('with the projection down while orders keep arriving, the peak counts every event it fell behind (well past 1,000), and drains to 0', async () => {
    const started = await startPattern(eventSourcingPattern);
    running = started.running as EventSourcingSystem;
    const system = running;
    // Down for 800 ms at 300 orders/s: every order appends several events the projection does not see.
    const crash = setTimeout(() => void system.crash('projection', 800), 150);
    const load = await runLoad(system, { shape: { kind: 'open', rate: 300 }, warmupMs: 0, durationMs: 1200, drainTimeoutMs: 10_000, nextOrder: () => started.generator.next() });
    clearTimeout(crash);
    await system.drain(10_000);
    const backlog = await system.backlog();
    const stats = await system.projectionStats();
    const eventsPerOrder = stats.eventsAppended / load.placed.size;
    expect(stats.projectionRestarts).toBe(1);
    expect(eventsPerOrder).toBeGreaterThan(3);
    // Sampled every 100 ms: at least what 0.6 s of the outage appended.
    expect(backlog.peakDepth).toBeGreaterThan(1000);
    expect(backlog.peakDepth).toBeGreaterThan(0.6 * 300 * eventsPerOrder * 0.5);
    expect(backlog.peakDepth).toBeLessThanOrEqual(stats.eventsAppended);
    expect(backlog.drainMs).not.toBeNull();
  }, 30_000);
});
