import type { EventStore, JsonObject, NewEvent, RecordedEvent } from '../../event-store/types.js';
import { eventTraceMetadata } from '../../tracing/index.js';
import type { CancelReason, OrderRequest, TerminalStatus } from '../../workflow/types.js';

/** The saga log's records: what the orchestrator has decided, in order. */
export type SagaRecord =
  | { readonly type: 'SagaStarted'; readonly order: OrderRequest }
  | { readonly type: 'StepSucceeded'; readonly step: string }
  | { readonly type: 'StepFailed'; readonly step: string; readonly reason: CancelReason; readonly failedAt: number }
  | { readonly type: 'StepCompensated'; readonly step: string }
  | { readonly type: 'SagaEnded'; readonly status: TerminalStatus; readonly reason?: CancelReason };

/** A saga's state, folded from its log. */
export interface SagaState {
  readonly orderId: string;
  readonly order: OrderRequest;
  /** The stream's version: the expected version of the next append. */
  readonly version: number;
  /** Forward steps that succeeded, in order. */
  readonly succeeded: readonly string[];
  readonly failure?: { readonly step: string; readonly reason: CancelReason; readonly failedAt: number };
  readonly compensated: readonly string[];
  readonly ended?: { readonly status: TerminalStatus; readonly reason?: CancelReason };
}

const STREAM_PREFIX = 'saga-';
export const sagaStream = (orderId: string): string => `${STREAM_PREFIX}${orderId}`;

/**
 * A record as an event of its saga's stream. Its metadata names the saga (`sagaId`: one id
 * for every record of one saga, across restarts) and, when the order is traced, carries
 * the trace context with correlation and causation ids.
 */
export function toEvent(record: SagaRecord, sagaId: string): NewEvent {
  const { type, ...data } = record;
  return { type, data: data as unknown as JsonObject, metadata: { sagaId, ...eventTraceMetadata() } };
}

function toRecord(event: RecordedEvent): SagaRecord {
  return { type: event.type, ...event.data } as unknown as SagaRecord;
}

/** Fold one saga's records into its state. */
export function fold(events: readonly RecordedEvent[]): SagaState | undefined {
  let state: SagaState | undefined;
  for (const event of events) {
    const r = toRecord(event);
    if (r.type === 'SagaStarted') {
      state = { orderId: r.order.orderId, order: r.order, version: event.version, succeeded: [], compensated: [] };
      continue;
    }
    if (!state) continue;
    state = { ...state, version: event.version };
    if (r.type === 'StepSucceeded') state = { ...state, succeeded: [...state.succeeded, r.step] };
    else if (r.type === 'StepFailed') state = { ...state, failure: { step: r.step, reason: r.reason, failedAt: r.failedAt } };
    else if (r.type === 'StepCompensated') state = { ...state, compensated: [...state.compensated, r.step] };
    else state = { ...state, ended: r.reason ? { status: r.status, reason: r.reason } : { status: r.status } };
  }
  return state;
}

/** Every saga in the log that has not ended, read in constant memory per batch. */
export async function unfinishedSagas(log: EventStore): Promise<SagaState[]> {
  const streams = new Map<string, RecordedEvent[]>();
  let after = 0;
  for (;;) {
    const batch = await log.readAll(after, 1000);
    for (const event of batch) {
      if (!event.stream.startsWith(STREAM_PREFIX)) continue;
      const list = streams.get(event.stream) ?? [];
      list.push(event);
      streams.set(event.stream, list);
    }
    const last = batch[batch.length - 1];
    if (!last) break;
    after = last.position;
  }
  const open: SagaState[] = [];
  for (const events of streams.values()) {
    const state = fold(events);
    if (state && !state.ended) open.push(state);
  }
  return open;
}
