import { AmqpError } from './amqp-error.js';
import { ReplyCode } from './constants.js';
import { type FieldTable, type FieldValue } from './field-table.js';

const MATCH_KINDS = ['all', 'any', 'all-with-x', 'any-with-x'] as const;

/** Validates a headers-exchange binding's `x-match` (406 as RabbitMQ does). */
export function checkHeadersBinding(args: FieldTable): void {
  const m = args['x-match'];
  if (m === undefined) return;
  if (typeof m !== 'string' || !(MATCH_KINDS as readonly string[]).includes(m)) {
    throw new AmqpError(ReplyCode.PRECONDITION_FAILED, `Invalid x-match field value ${JSON.stringify(m)}; expected all, any, all-with-x, or any-with-x`);
  }
}

function same(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    const x = Buffer.isBuffer(a) ? a : typeof a === 'string' ? Buffer.from(a) : null;
    const y = Buffer.isBuffer(b) ? b : typeof b === 'string' ? Buffer.from(b) : null;
    return x !== null && y !== null && x.equals(y);
  }
  return typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * RabbitMQ's headers-exchange rule: `x-match` all (default) needs every binding argument
 * present with an equal value, any needs one; a void (null) binding value only needs
 * the header to exist; keys starting with `x-` are ignored unless `*-with-x`.
 */
export function headersMatch(binding: FieldTable, headers: FieldTable): boolean {
  const kind = typeof binding['x-match'] === 'string' ? binding['x-match'] : 'all';
  const withX = kind.endsWith('-with-x');
  const any = kind.startsWith('any');
  let all = true;
  let some = false;
  for (const [k, v] of Object.entries(binding)) {
    if (k === 'x-match' || (!withX && k.startsWith('x-'))) continue;
    const h = headers[k];
    const ok = h !== undefined && (v === null || same(v, h));
    if (ok) some = true;
    else all = false;
  }
  return any ? some : all;
}
