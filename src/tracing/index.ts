/**
 * Tracing: a thin layer over @opentelemetry/api. Every hop carries a W3C `traceparent`
 * (HTTP headers, gRPC metadata, AMQP headers, event metadata) and every service opens a
 * span for its part as a child of the context it received.
 *
 * With no tracer provider registered the API is a no-op, and this layer costs one context
 * lookup per hop: a span is opened only under a recording parent, and a carrier is
 * allocated only when there is something to carry (STYLE.md §9: pay for tracing only when
 * someone listens). Roots are opened by whoever listens (`pattern-bench trace`).
 */
import { context, createContextKey, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { hrTime, W3CTraceContextPropagator } from '@opentelemetry/core';

/** The services a span can belong to: the workflow's four, the broker, the orchestrator, and the load generator's client. */
export type TracedService = 'client' | 'orders' | 'payments' | 'inventory' | 'notifications' | 'broker' | 'orchestrator' | 'store' | 'projection';

/** What a span says about a service's part. */
export interface SpanAttrs {
  readonly service: TracedService | string;
  /** e.g. `POST /charges`, `Charge`, `consume`, `publish`, `handle`. */
  readonly operation: string;
  /** The message or event type carried, when there is one (`payment.requested`, `OrderPlaced`). */
  readonly message?: string;
  /** Payload bytes, where known. */
  readonly bytes?: number;
}

/** The carrier key W3C trace context travels under. */
export const TRACEPARENT = 'traceparent';

const propagator = new W3CTraceContextPropagator();

/** The tracer every span of pattern-bench comes from. */
export function tracer(): Tracer {
  return trace.getTracer('pattern-bench');
}

/** Whether `ctx` (default: the active context) holds a recording span: a hop under it is worth tracing. */
export function isTracing(ctx: Context = context.active()): boolean {
  const span = trace.getSpan(ctx);
  return span !== undefined && (span.isRecording() || isSampled(span.spanContext()));
}

/** A valid, sampled span context: its span may have ended (a saga's steps outlive the call that started it) or be remote. */
function isSampled(sc: SpanContext): boolean {
  return trace.isSpanContextValid(sc) && (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * `carrier` (or a new one) with the `traceparent` of `ctx`'s span, or `carrier` unchanged
 * (`undefined` when none was given) when nothing is being traced: no allocation then.
 */
export function injectTrace<C extends Record<string, unknown>>(carrier?: C, ctx: Context = context.active()): C | undefined {
  if (!isTracing(ctx)) return carrier;
  const target = carrier ?? ({} as C);
  propagator.inject(ctx, target, defaultTextMapSetter);
  return target;
}

/** The `traceparent` of `ctx`'s recording span, or undefined. */
export function traceparent(ctx: Context = context.active()): string | undefined {
  return injectTrace<Record<string, string>>(undefined, ctx)?.[TRACEPARENT];
}

/**
 * The context a received hop continues: the active one with the remote parent of
 * `carrier`'s `traceparent`, or the active one itself when the carrier has none.
 */
export function extractTrace(carrier: Readonly<Record<string, unknown>> | undefined | null): Context {
  const active = context.active();
  const value = carrier?.[TRACEPARENT];
  if (typeof value !== 'string') return active;
  return propagator.extract(active, { [TRACEPARENT]: value }, defaultTextMapGetter);
}

function attributes(attrs: SpanAttrs): Attributes {
  const out: Attributes = { service: attrs.service, operation: attrs.operation };
  if (attrs.message !== undefined) out['message'] = attrs.message;
  if (attrs.bytes !== undefined) out['bytes'] = attrs.bytes;
  return out;
}

/**
 * A span for a service's part, a child of `parent`'s span, and the context it is active in;
 * undefined when `parent` holds no span (nothing is traced). The caller ends it.
 */
export function openSpan(name: string, attrs: SpanAttrs, parent: Context = context.active()): { readonly span: Span; readonly ctx: Context } | undefined {
  const parentSpan = trace.getSpan(parent);
  if (!parentSpan) return undefined;
  // A parent that records, or a sampled one that has ended (a saga's steps go on after the
  // call that started it has answered) or came from a hop (remote).
  const sc = parentSpan.spanContext();
  if (!parentSpan.isRecording() && !isSampled(sc)) return undefined;
  // Start times from the monotonic clock: the SDK's default is Date.now(), whole milliseconds.
  const span = tracer().startSpan(name, { attributes: attributes(attrs), startTime: hrTime() }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** End `span`, marked as an error when `err` is given. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    // gRPC errors are plain objects with `details`; refusals (out of stock) end here too.
    const e = err as { message?: unknown; details?: unknown } | null;
    const message = typeof e?.message === 'string' ? e.message : typeof e?.details === 'string' ? e.details : String(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}

/**
 * Run `fn` in a span for a service's part (a child of `parent`, default the active context),
 * ended when `fn` returns or its promise settles. Without a traced parent, just `fn()`.
 */
export function withSpan<T>(name: string, attrs: SpanAttrs, fn: () => T, parent: Context = context.active()): T {
  const opened = openSpan(name, attrs, parent);
  if (!opened) return fn();
  const { span, ctx } = opened;
  let result: T;
  try {
    result = context.with(ctx, fn);
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
  if (result instanceof Promise) {
    result.then(
      () => endSpan(span),
      (err: unknown) => endSpan(span, err),
    );
  } else endSpan(span);
  return result;
}

/** Open a root span (the order as the client places it): only meaningful with a provider registered. */
export function withRootSpan<T>(name: string, attrs: SpanAttrs, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes: attributes(attrs), root: true, startTime: hrTime() }, async (span) => {
    try {
      const value = await fn();
      endSpan(span);
      return value;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  });
}

const CAUSATION = createContextKey('pattern-bench.causation');

/** `ctx` with the id of the event being handled: events appended under it name it as their cause. */
export function withCausation(ctx: Context, causationId: string): Context {
  return ctx.setValue(CAUSATION, causationId);
}

/**
 * Metadata for events appended now: `traceparent`, `correlationId` (the trace id: every
 * event of one order's journey shares it) and `causationId` (the event whose handling
 * appended these, when there was one). Undefined when nothing is traced: events unchanged.
 */
export function eventTraceMetadata(ctx: Context = context.active()): Record<string, string> | undefined {
  const carrier = injectTrace<Record<string, string>>(undefined, ctx);
  if (!carrier) return undefined;
  const correlationId = trace.getSpanContext(ctx)?.traceId;
  if (correlationId !== undefined) carrier['correlationId'] = correlationId;
  const causationId = ctx.getValue(CAUSATION);
  if (typeof causationId === 'string') carrier['causationId'] = causationId;
  return carrier;
}
