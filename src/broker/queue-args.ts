import { AmqpError } from './amqp-error.js';
import { ReplyCode } from './constants.js';
import { type FieldTable, type FieldValue } from './field-table.js';
import { type Overflow, type QueueLimits } from './queue.js';

const OVERFLOWS: readonly Overflow[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];

/** Arguments compared on redeclare (RabbitMQ's equivalence check). */
export const EQUIVALENCE_ARGS = [
  'x-message-ttl',
  'x-max-length',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
] as const;

function invalid(queue: string, arg: string, detail: string): AmqpError {
  return new AmqpError(ReplyCode.PRECONDITION_FAILED, `invalid arg '${arg}' for queue '${queue}' in vhost '/': ${detail}`);
}

function nonNegativeInt(queue: string, args: FieldTable, key: string): number | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(queue, key, `{unacceptable_type,${describe(v)}}`);
  if (v < 0) throw invalid(queue, key, `{value_negative,${v}}`);
  return v;
}

function str(queue: string, args: FieldTable, key: string): string | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  throw invalid(queue, key, `{unacceptable_type,${describe(v)}}`);
}

function describe(v: FieldValue): string {
  return v === null ? 'void' : Array.isArray(v) ? 'array' : typeof v;
}

/** Validates the x-arguments of queue.declare; throws 406 as RabbitMQ does. */
export function parseQueueArgs(queue: string, args: FieldTable): QueueLimits {
  const overflow = str(queue, args, 'x-overflow') ?? 'drop-head';
  if (!(OVERFLOWS as readonly string[]).includes(overflow)) throw invalid(queue, 'x-overflow', `{unknown_overflow_type,${overflow}}`);
  const deadLetterExchange = str(queue, args, 'x-dead-letter-exchange');
  const deadLetterRoutingKey = str(queue, args, 'x-dead-letter-routing-key');
  if (deadLetterRoutingKey !== undefined && deadLetterExchange === undefined) {
    throw new AmqpError(
      ReplyCode.PRECONDITION_FAILED,
      `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '/': routing_key_but_no_dlx_defined`,
    );
  }
  return {
    messageTtl: nonNegativeInt(queue, args, 'x-message-ttl'),
    maxLength: nonNegativeInt(queue, args, 'x-max-length'),
    overflow: overflow as Overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
  };
}

/** Canonical text of an argument value for the equivalence check. */
export function argText(v: FieldValue | undefined): string {
  if (v === undefined) return 'none';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}
