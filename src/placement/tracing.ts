import { startRecording, stopRecording, takeSpans, type TakenSpans } from '../tracing/recorder.js';

/** What a thread is asked to do with its span recording. */
export type TracingOp = 'start' | 'take' | 'stop';

/** Apply `op` to this thread's recording (src/tracing/recorder.ts). */
export async function applyTracing(op: TracingOp): Promise<TakenSpans> {
  if (op === 'start') {
    startRecording();
    return { spans: [], dropped: 0 };
  }
  return op === 'take' ? takeSpans() : stopRecording();
}
