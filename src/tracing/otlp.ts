/**
 * `--otlp URL`: the recorded spans, sent to an OTLP/HTTP endpoint (Jaeger, Tempo, any
 * collector) with `@opentelemetry/exporter-trace-otlp-http`. Each span goes out under the
 * resource of its own service (`service.name` = orders, payments, inventory, broker, …),
 * so a trace view shows one lane per service, as it would for services on machines of their own.
 */
import { TraceFlags, type HrTime, type SpanContext } from '@opentelemetry/api';
import { ExportResultCode, hrTimeDuration, type ExportResult } from '@opentelemetry/core';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InvalidOptionError } from '../errors.js';
import type { SpanRecord } from './recorder.js';

/** Spans per request. */
const BATCH = 512;
/** How long delivery may take in all, retries included, ms: an unreachable endpoint costs at most this. */
export const OTLP_TIMEOUT_MS = 2_000;

/** What delivery did: spans the endpoint took, spans it did not, and why. */
export interface OtlpDelivery {
  readonly url: string;
  readonly exported: number;
  readonly failed: number;
  readonly error?: string;
}

/**
 * The endpoint to post to: `URL` as given, or with `/v1/traces` when it names no path
 * (`http://127.0.0.1:4318`, as OTEL_EXPORTER_OTLP_ENDPOINT is written). Throws the CLI's
 * one-line error for anything but an http(s) URL.
 */
export function otlpEndpoint(option: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError(option, value, 'an http:// or https:// URL of an OTLP/HTTP endpoint');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError(option, value, 'an http:// or https:// URL of an OTLP/HTTP endpoint');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.href;
}

const resources = new Map<string, Resource>();
function resourceOf(service: string): Resource {
  let r = resources.get(service);
  if (!r) {
    r = resourceFromAttributes({ 'service.name': service, 'service.namespace': 'pattern-bench' });
    resources.set(service, r);
  }
  return r;
}

/** A recorded span as the exporter takes it, under its service's resource. */
export function toReadableSpan(record: SpanRecord): ReadableSpan {
  const ctx: SpanContext = { traceId: record.traceId, spanId: record.spanId, traceFlags: record.traceFlags };
  const parent: SpanContext | undefined =
    record.parentSpanId === undefined ? undefined : { traceId: record.traceId, spanId: record.parentSpanId, traceFlags: TraceFlags.SAMPLED };
  const service = typeof record.attributes['service'] === 'string' ? record.attributes['service'] : 'pattern-bench';
  return {
    name: record.name,
    kind: record.kind,
    spanContext: () => ctx,
    ...(parent ? { parentSpanContext: parent } : {}),
    startTime: record.startTime,
    endTime: record.endTime,
    duration: hrTimeDuration(record.startTime as HrTime, record.endTime as HrTime),
    status: record.status,
    attributes: record.attributes,
    links: [],
    events: [],
    ended: true,
    resource: resourceOf(service),
    instrumentationScope: { name: 'pattern-bench' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function exportBatch(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/** Send `records` to `url`. Never throws: a failed delivery is reported in the result. */
export async function exportSpans(url: string, records: readonly SpanRecord[], timeoutMs = OTLP_TIMEOUT_MS): Promise<OtlpDelivery> {
  // Loaded when there is something to send: every other command starts without it.
  const { OTLPTraceExporter: Exporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const exporter = new Exporter({ url, timeoutMillis: timeoutMs });
  let exported = 0;
  let error: string | undefined;
  try {
    for (let i = 0; i < records.length && error === undefined; i += BATCH) {
      const batch = records.slice(i, i + BATCH).map(toReadableSpan);
      const result = await exportBatch(exporter, batch);
      if (result.code === ExportResultCode.SUCCESS) exported += batch.length;
      else error = result.error?.message ?? 'export failed';
    }
  } finally {
    await exporter.shutdown().catch(() => undefined);
  }
  return { url, exported, failed: records.length - exported, ...(error !== undefined ? { error } : {}) };
}
