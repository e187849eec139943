/**
 * Span recording, one thread at a time. Every thread that runs a part of the system (the
 * main thread, each system worker) records the spans its services end into a bounded
 * buffer while recording is on; whoever listens takes them as plain data (`SpanRecord`),
 * which crosses a thread boundary and turns back into an OpenTelemetry span for export.
 *
 * Off, nothing is registered: the API's no-op tracer, and no AsyncLocalStorage hooks
 * (disabling the context manager removes them), so a measured run pays nothing.
 */
import { context, trace, type HrTime, type SpanStatus } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A finished span as plain data. Times are `[seconds, nanoseconds]` since the epoch, as OpenTelemetry keeps them. */
export interface SpanRecord {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly parentSpanId?: string;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly status: SpanStatus;
}

/** Spans a thread keeps at most between two takes; more are counted as dropped. */
export const DEFAULT_SPAN_CAPACITY = 100_000;

/** The spans a thread recorded since the last take, and how many did not fit. */
export interface TakenSpans {
  readonly spans: SpanRecord[];
  readonly dropped: number;
}

export function toRecord(span: ReadableSpan): SpanRecord {
  const sc = span.spanContext();
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') attributes[k] = v;
  const parent = span.parentSpanContext?.spanId;
  return {
    name: span.name,
    kind: span.kind,
    traceId: sc.traceId,
    spanId: sc.spanId,
    traceFlags: sc.traceFlags,
    ...(parent !== undefined ? { parentSpanId: parent } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    attributes,
    status: span.status.message === undefined ? { code: span.status.code } : { code: span.status.code, message: span.status.message },
  };
}

/** Keeps every ended span as a record, up to `capacity`. */
class Collector implements SpanProcessor {
  spans: SpanRecord[] = [];
  dropped = 0;
  constructor(private readonly capacity: number) {}
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (this.spans.length >= this.capacity) this.dropped++;
    else this.spans.push(toRecord(span));
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Recording {
  readonly provider: BasicTracerProvider;
  readonly contextManager: AsyncLocalStorageContextManager;
  readonly collector: Collector;
}

let recording: Recording | undefined;

/** Start recording this thread's spans (a tracer provider and an AsyncLocalStorage context manager, registered globally). Idempotent. */
export function startRecording(capacity = DEFAULT_SPAN_CAPACITY): void {
  if (recording) return;
  const collector = new Collector(capacity);
  const provider = new BasicTracerProvider({ spanProcessors: [collector] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  recording = { provider, contextManager, collector };
}

/** The spans recorded since the last take; the buffer starts empty again. */
export function takeSpans(): TakenSpans {
  if (!recording) return { spans: [], dropped: 0 };
  const { collector } = recording;
  const taken = { spans: collector.spans, dropped: collector.dropped };
  collector.spans = [];
  collector.dropped = 0;
  return taken;
}

/** Stop recording: unregister everything (the no-op API again, no async hooks). Returns what was not taken. */
export async function stopRecording(): Promise<TakenSpans> {
  if (!recording) return { spans: [], dropped: 0 };
  const left = takeSpans();
  const { provider } = recording;
  recording = undefined;
  trace.disable();
  context.disable(); // disables the AsyncLocalStorage: with none left enabled, Node removes its promise hooks
  await provider.shutdown();
  return left;
}
