/**
 * Tracing inside `run`: a few orders of each pattern traced on the system under test as
 * the run placed it (the report's sequence diagrams), and with `--trace-sample R` a share
 * R of the measured orders, with what tracing cost them. Recording is on only while it is
 * needed: off during a measured window unless R > 0, so the default run's figures are
 * measured with the no-op API and no async hooks.
 */
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import { describeError } from '../errors.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import type { ThreadPool } from '../placement/pool.js';
import type { RunningPattern } from '../patterns/types.js';
import type { Random } from '../random.js';
import { withRootSpan } from '../tracing/index.js';
import type { SpanRecord } from '../tracing/recorder.js';
import type { OrderOutcome, OrderRequest } from '../workflow/types.js';
import type { LoadTarget } from './loadgen.js';
import type { PlacedLog } from './placed.js';
import type { TracedJourney, TraceOverhead, TracesSection } from './results.js';
import { journeySpans, outcomeKind } from './trace.js';

/** Spans kept for `--otlp` at most; more are counted, not kept. */
const OTLP_SPAN_CAP = 200_000;

interface Placed {
  readonly order: OrderRequest;
  readonly traceId: string;
  readonly result: OrderOutcome | undefined;
  readonly error: { code: string; message: string } | undefined;
}

/** A run's measured load with a share of its orders traced: every order's time from call to answer, traced and untraced apart. */
export class SampledTarget implements LoadTarget {
  readonly traced = new LatencyHistogram();
  readonly untraced = new LatencyHistogram();
  tracedOrders = 0;

  constructor(
    private readonly inner: LoadTarget,
    private readonly share: number,
    private readonly random: Random,
  ) {}

  placeOrder(order: OrderRequest): Promise<OrderOutcome> {
    const sampled = this.random.next() < this.share;
    const started = performance.now();
    const answer = sampled ? withRootSpan(`client: place ${order.orderId}`, { service: 'client', operation: 'place order' }, () => this.inner.placeOrder(order)) : this.inner.placeOrder(order);
    if (sampled) this.tracedOrders++;
    const into = sampled ? this.traced : this.untraced;
    const done = () => into.recordMs(performance.now() - started);
    answer.then(done, done);
    return answer;
  }
}

export class RunTracer {
  private readonly journeys: TracedJourney[] = [];
  private readonly overhead: TraceOverhead[] = [];
  private readonly records: SpanRecord[] = [];
  private readonly journeyed = new Set<string>();
  /** Recording is on in the pool (between a start and its stop). */
  private recording = false;

  constructor(
    /** `--trace-sample`. */
    readonly sample: number,
    /** Keep the spans for export (`--otlp`). */
    private readonly keep: boolean,
  ) {}

  /** Whether this pattern's journeys are still to be traced (once per run, in its first measured run). */
  wantsJourneys(pattern: string): boolean {
    return !this.journeyed.has(pattern);
  }

  /**
   * Start recording and place `orders` (StartedRun.journeyOrders: one confirmed, one
   * compensated), each under a root span; the warm-up runs beside them (they cost the run no
   * time of their own). Their answers and spans are read at `finishJourneys`, after the
   * warm-up: best-effort work (notifications) has ended by then, with no wait of its own.
   */
  async placeJourneyOrders(target: RunningPattern, orders: readonly OrderRequest[], log: PlacedLog, pool: ThreadPool): Promise<{ readonly answers: Promise<Placed[]> }> {
    await this.start(pool);
    return { answers: this.placeAll(target, orders, log) };
  }

  private placeAll(target: RunningPattern, orders: readonly OrderRequest[], log: PlacedLog): Promise<Placed[]> {
    return Promise.all(
      orders.map(async (order): Promise<Placed> => {
        const index = log.add(order, performance.now());
        let traceId = '';
        try {
          const result = await withRootSpan(`client: place ${order.orderId}`, { service: 'client', operation: 'place order' }, () => {
            traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
            return target.placeOrder(order);
          });
          log.accept(index);
          log.settle(index, result, performance.now());
          return { order, traceId, result, error: undefined };
        } catch (err) {
          log.fail(index, err, performance.now());
          return { order, traceId, result: undefined, error: describeError(err) };
        }
      }),
    );
  }

  /** Read the journey orders' spans and keep each one's journey; recording stops unless the run samples. */
  async finishJourneys(pattern: string, placement: string, pending: { readonly answers: Promise<Placed[]> }, pool: ThreadPool): Promise<void> {
    this.journeyed.add(pattern);
    const placed = await pending.answers;
    const { spans } = this.sample > 0 ? await pool.tracing('take') : await this.stop(pool);
    this.keepRecords(spans);
    for (const p of placed) this.journeys.push(journeyOf(pattern, placement, p, spans));
  }

  /** The measured load's target: the pattern itself, or with R > 0 a sampling wrapper (recording on). */
  async measuredTarget(target: LoadTarget, pool: ThreadPool, random: Random): Promise<LoadTarget | SampledTarget> {
    if (this.sample <= 0) return target;
    await this.start(pool);
    return new SampledTarget(target, this.sample, random);
  }

  /** After the measured load and its drain: stop recording and keep what sampling cost. */
  async finishMeasured(key: { pattern: string; scenario: string; trial: number }, target: LoadTarget | SampledTarget, pool: ThreadPool): Promise<void> {
    if (!(target instanceof SampledTarget)) return;
    const { spans, dropped } = await this.stop(pool);
    this.keepRecords(spans);
    const side = (h: LatencyHistogram) => (h.count > 0 ? { p50: h.percentileMs(50), p99: h.percentileMs(99) } : null);
    this.overhead.push({ ...key, tracedOrders: target.tracedOrders, spans: spans.length + dropped, traced: side(target.traced), untraced: side(target.untraced) });
  }

  /** A run that ended early (an error, an abort) leaves nothing recording into the next one. */
  async settle(pool: ThreadPool): Promise<void> {
    if (this.recording) await this.stop(pool);
  }

  private async start(pool: ThreadPool): Promise<void> {
    this.recording = true;
    await pool.tracing('start');
  }

  private stop(pool: ThreadPool): ReturnType<ThreadPool['tracing']> {
    this.recording = false;
    return pool.tracing('stop');
  }

  /** The spans kept for export. */
  spans(): readonly SpanRecord[] {
    return this.records;
  }

  /** The results' traces section; undefined when nothing was traced. */
  section(): TracesSection | undefined {
    if (this.journeys.length === 0 && this.overhead.length === 0) return undefined;
    return { sample: this.sample, journeys: this.journeys, overhead: this.overhead, otlp: null };
  }

  private keepRecords(spans: readonly SpanRecord[]): void {
    if (!this.keep) return;
    const room = Math.max(0, OTLP_SPAN_CAP - this.records.length);
    this.records.push(...spans.slice(0, room));
  }
}

function journeyOf(pattern: string, placement: string, p: Placed, spans: readonly SpanRecord[]): TracedJourney {
  const result = p.result;
  const outcome = result ? outcomeKind(result) : 'errored';
  const base = { pattern, outcome, orderId: p.order.orderId, traceId: p.traceId, placement, spans: journeySpans(spans.filter((s) => s.traceId === p.traceId)) };
  if (!result) return { ...base, state: 'errored', error: p.error ?? { code: 'error', message: 'no answer' } };
  return { ...base, state: 'completed', result: result.reason === undefined ? { status: result.status } : { status: result.status, reason: result.reason } };
}
