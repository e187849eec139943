import type { TakenSpans } from '../tracing/recorder.js';

/** What a thread is asked to do with its span recording. */
export type TracingOp = 'start' | 'take' | 'stop';

/**
 * Apply `op` to this thread's recording (src/tracing/recorder.ts). The SDK is loaded on the
 * first request: a thread that never traces never loads it (it costs a thread ~0.1 s to start).
 */
export async function applyTracing(op: TracingOp): Promise<TakenSpans> {
  const recorder = await import('../tracing/recorder.js');
  if (op === 'start') {
    recorder.startRecording();
    return { spans: [], dropped: 0 };
  }
  return op === 'take' ? recorder.takeSpans() : recorder.stopRecording();
}
