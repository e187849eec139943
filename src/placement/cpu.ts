import { readFileSync, readlinkSync } from 'node:fs';

/**
 * The OS thread id of the calling thread (Linux: /proc/thread-self), or null where the
 * platform does not say. With it, another thread can read this thread's CPU time.
 */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/**
 * CPU time a thread of this process has run, in ms (Linux: /proc/self/task/<tid>/schedstat,
 * nanoseconds). null when the thread is gone or the platform has no such file: per-thread
 * CPU is then not available, and the report says so.
 */
export function threadCpuMs(tid: number | null): number | null {
  if (tid === null) return null;
  try {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}
