/** The verdict per pattern and the why sentences: generated from the figures, exact sentences on a constructed document. */
import { describe, expect, it } from 'vitest';
import type { CompletedRun, ResultsDocument } from '../src/bench/results.js';
import type { TransportInfo } from '../src/patterns/types.js';
import { summarize } from '../src/report/summary.js';
import { compactRate, shortMs, verdicts } from '../src/report/verdicts.js';
import { why, whyRows } from '../src/report/why.js';
import { capacity, capacityRun, equalLoad, runAt } from './support/figures.js';
import { completedRun, failure, latency, resultsDoc } from './support/results.js';

const RATE = 1400;

const transports: Record<string, TransportInfo> = {
  rest: { protocol: 'HTTP/1.1', encoding: 'JSON', broker: null, placement: 'shared' },
  grpc: { protocol: 'HTTP/2 (gRPC)', encoding: 'protobuf', broker: null, placement: 'shared' },
  queue: { protocol: 'AMQP 0-9-1', encoding: 'JSON', broker: 'embedded', placement: 'shared' },
};

/** A run of `pattern` at the equal load with the figures the sentences read: system CPU µs/order, bytes and messages per order, busiest thread's share. */
function run(pattern: string, scenario: string, cpu: number, bytes: number, messages: number, busy: number, overrides: Partial<CompletedRun> = {}): CompletedRun {
  const base = completedRun();
  return runAt(RATE, {
    pattern,
    scenario,
    transport: transports[pattern] ?? base.transport,
    cost: {
      ...base.cost,
      system: { sharesGeneratorThread: false, cpuMicrosPerOrder: cpu, busiestThread: { name: `${pattern}-main`, eventLoopUtilization: busy } },
      bytesPerOrder: bytes,
      messagesPerOrder: messages,
    },
    ...overrides,
  });
}

const broken = { ...completedRun().invariants, ok: false, lost: 3 };

function workshopDoc(): ResultsDocument {
  const runs = [
    run('rest', 'baseline', 620, 1500, 4, 0.3, { latencyMs: latency(3, 8) }),
    run('grpc', 'baseline', 2292, 524, 7.8, 0.96, { latencyMs: latency(2.5, 6.25) }),
    run('queue', 'baseline', 700, 2100, 12, 0.4, { latencyMs: latency(6, 8.04), acceptLatencyMs: latency(0.4, 1.2), backlog: { peakDepth: 4, drainMs: 9 } }),
    run('rest', 'outage', 640, 1500, 4, 0.3, { failure: failure({ kind: 'recovered', ms: 1200 }, { successRate: 0.9 }) }),
    run('grpc', 'outage', 2300, 524, 7.8, 0.9, { failure: failure({ kind: 'recovered', ms: 300 }), invariants: broken }),
    run('queue', 'outage', 710, 2100, 12, 0.4, { failure: failure({ kind: 'never-dropped' }, { successRate: 1 }), backlog: { peakDepth: 10, drainMs: 24 } }),
  ];
  const doc = resultsDoc(runs);
  return {
    ...doc,
    scenarios: [...(doc.scenarios ?? []), { id: 'outage', title: 'Payments outage', description: 'Payments is down from 1 s to 2 s.' }],
    capacity: capacity([capacityRun('rest', 2000), capacityRun('grpc', 3100), capacityRun('queue', 4630)]),
    equalLoad: equalLoad(RATE, { pattern: 'rest', capacity: 2000 }),
  };
}

describe('verdicts', () => {
  it('says one sentence per pattern: capacity, p99 at equal load, every fault scenario, the largest backlog', () => {
    expect(verdicts(workshopDoc()).map((v) => v.sentence)).toEqual([
      'rest: 2k orders/s capacity, p99 8 ms at equal load; lost no order through the payments outage (90% succeeded, recovered in 1,200 ms)',
      'grpc: 3.1k orders/s capacity, p99 6.3 ms at equal load; broke its invariants through the payments outage (lost 3)',
      'queue: 4.6k orders/s capacity, p99 8 ms at equal load; kept every order through the payments outage; backlog of 10 drained in 24 ms',
    ]);
  });

  it('says the load as it was: a --rate run is at that rate, a closed loop has no capacity phase', () => {
    const rated = resultsDoc([runAt(1000, { latencyMs: latency(2, 12.5) })], { rate: 1000 });
    expect(verdicts(rated).map((v) => v.sentence)).toEqual(['rest: p99 13 ms at 1k orders/s']);
    const closed = resultsDoc([completedRun({ latencyMs: latency(2, 0.456) })], { concurrency: 10 });
    expect(verdicts(closed).map((v) => v.sentence)).toEqual(['rest: p99 0.46 ms closed loop']);
  });

  it('says a lower bound and an errored pattern', () => {
    const doc = resultsDoc([completedRun({ latencyMs: { ...latency(5, 5000), lowerBounds: 20 } })], { concurrency: 4 });
    expect(verdicts(doc)[0]?.sentence).toBe('rest: p99 ≥ 5,000 ms closed loop');
  });

  it('shortens rates and milliseconds for a headline', () => {
    expect([412, 1000, 4630, 9990, 12_345, 1_250_000].map(compactRate)).toEqual(['412', '1k', '4.6k', '10k', '12k', '1.3M']);
    expect([0.456, 0.04, 1, 8.04, 8.25, 24.4, 1204].map(shortMs)).toEqual(['0.46', '0.04', '1', '8', '8.3', '24', '1,204']);
  });
});

describe('why', () => {
  it('explains the headline differences with their ratios, from the first fault-free scenario', () => {
    // 2292 / 620 = 3.70; 2100 / 524 = 4.01; 12 / 4 = 3; 0.96 / 0.3 = 3.2; 6 / 0.4 = 15.
    expect(why(workshopDoc())).toEqual([
      "grpc's 2,292 CPU µs/order is 3.7× rest's: 7.8 messages and 524 bytes per order through HTTP/2 (gRPC) framing and protobuf.",
      "queue puts 2,100 bytes per order on the wire, 4.0× grpc's 524: 12.0 messages of 175 bytes on average against 7.8 of 67.",
      "queue exchanges 12.0 messages per order, 3.0× rest's 4.0, every one through the embedded broker.",
      "grpc's busiest thread (grpc-main) was 96% busy, 3.2× rest's (rest-main, 30%): at 95% or more that thread, not the pattern, sets the pace.",
      'queue answers in 0.4 ms (accept p50) but finishes an order in 6 ms end to end, 15× as long: the caller hears back before the workflow is done.',
    ]);
  });

  it('says no ratio under 1.15×', () => {
    const rows = summarize(
      resultsDoc([
        run('rest', 'baseline', 1000, 1000, 4, 0.5),
        run('grpc', 'baseline', 1149, 1149, 4.59, 0.574, { acceptLatencyMs: latency(4.4, 8), latencyMs: latency(5, 9) }),
      ]),
    );
    expect(whyRows(rows)).toEqual([]);
  });

  it('says the ratio from 1.15× on', () => {
    const rows = summarize(resultsDoc([run('rest', 'baseline', 1000, 1000, 4, 0.5), run('grpc', 'baseline', 1150, 1000, 4, 0.5)]));
    expect(whyRows(rows)).toEqual(["grpc's 1,150 CPU µs/order is 1.15× rest's: 4.0 messages and 1,000 bytes per order through HTTP/2 (gRPC) framing and protobuf."]);
  });
});
