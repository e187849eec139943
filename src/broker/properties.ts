import { AmqpError } from './amqp-error.js';
import { ReplyCode } from './constants.js';
import { type FieldTable } from './field-table.js';
import { Reader } from './reader.js';
import { encodeTable } from './table-encoder.js';

/** Basic-class property flags, most significant bit first (spec class `basic`). */
const FLAG_HEADERS = 1 << 13;
const FLAG_REPLY_TO = 1 << 9;
const FLAG_EXPIRATION = 1 << 8;
/** Encoding of each property in flag order: s = shortstr, t = table, o = octet, l = longlong. */
const KINDS = ['s', 's', 't', 'o', 'o', 's', 's', 's', 's', 'l', 's', 's', 's', 's'] as const;

interface Field {
  bit: number;
  bytes: Buffer;
}

/** Splits a raw property list into its present fields (throws 501 on malformed input). */
function split(props: Buffer): { flags: number; fields: Field[] } {
  const r = new Reader(props, 0, props.length);
  const flags = r.u16();
  const fields: Field[] = [];
  for (let i = 0; i < KINDS.length; i++) {
    const bit = 1 << (15 - i);
    if ((flags & bit) === 0) continue;
    const start = r.pos;
    const kind = KINDS[i];
    if (kind === 's') r.shortstr();
    else if (kind === 't') r.table();
    else if (kind === 'o') r.u8();
    else r.u64();
    fields.push({ bit, bytes: props.subarray(start, r.pos) });
  }
  return { flags, fields };
}

/** The raw `expiration` property (a decimal string of ms), or undefined when absent. */
export function rawExpirationOf(props: Buffer): string | undefined {
  if (props.length < 2 || (props.readUInt16BE(0) & FLAG_EXPIRATION) === 0) return undefined;
  const f = split(props).fields.find((x) => x.bit === FLAG_EXPIRATION);
  return f === undefined ? undefined : f.bytes.toString('utf8', 1);
}

/**
 * Per-message TTL from the `expiration` property, without decoding the rest (cheap when
 * the flag is absent, the common case). Throws 406 for a non-integer or negative value,
 * with RabbitMQ's wording.
 */
export function expirationOf(props: Buffer): number | undefined {
  const text = rawExpirationOf(props);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new AmqpError(ReplyCode.PRECONDITION_FAILED, `invalid expiration '${text}': no_integer`);
  const ttl = Number(text);
  if (ttl < 0) throw new AmqpError(ReplyCode.PRECONDITION_FAILED, `invalid expiration '${text}': {value_negative,${ttl}}`);
  return ttl;
}

/** The `reply-to` property, or undefined when absent (cheap when the flag is not set). */
export function replyToOf(props: Buffer): string | undefined {
  if (props.length < 2 || (props.readUInt16BE(0) & FLAG_REPLY_TO) === 0) return undefined;
  const f = split(props).fields.find((x) => x.bit === FLAG_REPLY_TO);
  return f === undefined ? undefined : f.bytes.toString('utf8', 1);
}

/** Returns a property list whose `reply-to` (which must be present) is `replyTo`. */
export function withReplyTo(props: Buffer, replyTo: string): Buffer {
  const { flags, fields } = split(props);
  const value = Buffer.from(replyTo, 'utf8');
  const encoded = Buffer.concat([Buffer.from([value.length]), value]);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(flags, 0);
  return Buffer.concat([head, ...fields.map((f) => (f.bit === FLAG_REPLY_TO ? encoded : f.bytes))]);
}

export function headersOf(props: Buffer): FieldTable {
  if (props.length < 2 || (props.readUInt16BE(0) & FLAG_HEADERS) === 0) return {};
  const f = split(props).fields.find((x) => x.bit === FLAG_HEADERS);
  if (f === undefined) return {};
  return new Reader(f.bytes, 0, f.bytes.length).table();
}

/** Returns a property list with `headers` replaced and, if asked, `expiration` removed. */
export function rewriteProps(props: Buffer, headers: FieldTable, dropExpiration: boolean): Buffer {
  const { fields } = props.length >= 2 ? split(props) : { fields: [] as Field[] };
  const out: Buffer[] = [];
  let flags = 0;
  const encodedHeaders = encodeTable(headers);
  let placed = false;
  for (const f of fields) {
    if (f.bit === FLAG_EXPIRATION && dropExpiration) continue;
    if (f.bit < FLAG_HEADERS && !placed) {
      out.push(encodedHeaders);
      flags |= FLAG_HEADERS;
      placed = true;
    }
    if (f.bit === FLAG_HEADERS) continue;
    out.push(f.bytes);
    flags |= f.bit;
  }
  if (!placed) {
    out.push(encodedHeaders);
    flags |= FLAG_HEADERS;
  }
  const head = Buffer.alloc(2);
  head.writeUInt16BE(flags, 0);
  return Buffer.concat([head, ...out]);
}
