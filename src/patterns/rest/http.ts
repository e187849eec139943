import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the server refuses, with the status and message it answers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reading past the cap this far is given up on: the connection is closed instead. */
const DISCARD_FACTOR = 16;

/**
 * Read a JSON body of at most `maxBytes`. Rejects with 413 (too large; the rest of the
 * body is drained so the keep-alive connection stays usable) or 400 (not JSON).
 */
export function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = declared > maxBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (tooLarge) {
        if (size > maxBytes * DISCARD_FACTOR) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    // Destroyed past the discard limit: no 'end' will come.
    req.on('close', () => {
      if (req.complete) return;
      reject(tooLarge ? new HttpError(413, `request body is larger than ${maxBytes} bytes`) : new HttpError(400, 'the request ended before its body'));
    });
    req.on('end', () => {
      if (tooLarge) return reject(new HttpError(413, `request body is larger than ${maxBytes} bytes`));
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `malformed JSON: ${(err as Error).message}`));
      }
    });
  });
}

/** Answer with a JSON body (or none for 204). */
export function sendJson(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
  sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
}
