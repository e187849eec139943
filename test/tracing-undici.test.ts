import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRootSpan } from '../src/tracing/index.js';
import { startRecording, stopRecording } from '../src/tracing/recorder.js';
import { traceContext } from '../src/tracing/undici.js';

const seen: IncomingHttpHeaders[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers);
  res.end('ok');
});
let pool: ReturnType<Pool['compose']>;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).compose(traceContext);
});
afterAll(async () => {
  await pool.close();
  await new Promise((r) => server.close(r));
});

async function get(headers?: Record<string, string> | string[]): Promise<IncomingHttpHeaders> {
  const { body } = await pool.request({ method: 'GET', path: '/', ...(headers ? { headers } : {}) });
  await body.text();
  return seen[seen.length - 1] ?? {};
}

describe('traceContext (undici interceptor)', () => {
  it('adds nothing to a request made with tracing off', async () => {
    const headers = await get({ 'x-kept': '1' });
    expect(headers['traceparent']).toBeUndefined();
    expect(headers['x-kept']).toBe('1');
  });

  it("under a traced order, every request carries that trace's traceparent, object or array headers alike, keeping the others", async () => {
    startRecording();
    try {
      const [traceId, asObject, asArray, bare] = await withRootSpan('client', { service: 'client', operation: 'test' }, async () => [
        trace.getActiveSpan()?.spanContext().traceId ?? '',
        await get({ 'x-kept': '1' }),
        await get(['x-kept', '2']),
        await get(),
      ] as const);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      for (const h of [asObject, asArray, bare]) expect(h['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect([asObject['x-kept'], asArray['x-kept']]).toEqual(['1', '2']);
    } finally {
      await stopRecording();
    }
  });
});
