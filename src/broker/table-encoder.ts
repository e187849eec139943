import { type FieldTable, type FieldValue, isDecimal, isTimestamp } from './field-table.js';

/**
 * Encodes a field table (with its 4-byte length prefix). Off the hot path: used for
 * server-properties and dead-letter headers only. Integers become `l` (signed 64),
 * as RabbitMQ writes them.
 */
export function encodeTable(table: FieldTable): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(table)) {
    const k = Buffer.from(key, 'utf8');
    parts.push(Buffer.from([k.length]), k, encodeValue(value));
  }
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function tagged(tag: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(tag, 'latin1'), payload]);
}

function longBytes(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length, 0);
  return Buffer.concat([len, b]);
}

export function encodeValue(value: FieldValue): Buffer {
  if (value === null) return Buffer.from('V', 'latin1');
  if (typeof value === 'string') return tagged('S', longBytes(Buffer.from(value, 'utf8')));
  if (typeof value === 'boolean') return Buffer.from([0x74, value ? 1 : 0]);
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(value), 0);
      return tagged('l', b);
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value, 0);
    return tagged('d', b);
  }
  if (Buffer.isBuffer(value)) return tagged('x', longBytes(value));
  if (Array.isArray(value)) return tagged('A', longBytes(Buffer.concat(value.map(encodeValue))));
  if (isTimestamp(value)) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(value.timestamp))), 0);
    return tagged('T', b);
  }
  if (isDecimal(value)) {
    const b = Buffer.alloc(5);
    b[0] = value.decimal.places;
    b.writeUInt32BE(value.decimal.digits, 1);
    return tagged('D', b);
  }
  return tagged('F', encodeTable(value as FieldTable));
}
