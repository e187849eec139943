/**
 * Trace context for undici, as an interceptor (STYLE.md §4: cross-cutting behaviour wraps):
 * a request made while a traced order is being worked on carries its `traceparent`; any
 * other request goes through untouched, at the cost of one context lookup.
 */
import type { Dispatcher } from 'undici';
import { isTracing, traceparent, TRACEPARENT } from './index.js';

type Headers = Dispatcher.DispatchOptions['headers'];

/** `headers` with `traceparent` added, whatever form undici was given them in. */
function withTraceparent(headers: Headers, value: string): Headers {
  if (headers === undefined || headers === null) return { [TRACEPARENT]: value };
  if (Array.isArray(headers)) return [...(headers as string[]), TRACEPARENT, value];
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(headers as Iterable<[string, string]>), [TRACEPARENT, value]] as Headers;
  return { ...(headers as Record<string, string>), [TRACEPARENT]: value };
}

/** `pool.compose(traceContext)`: every request carries the active trace's `traceparent`, if there is one. */
export const traceContext: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  if (!isTracing()) return dispatch(opts, handler);
  const value = traceparent();
  return dispatch(value === undefined ? opts : { ...opts, headers: withTraceparent(opts.headers, value) }, handler);
};
