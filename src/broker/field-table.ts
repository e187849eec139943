/** A decoded AMQP field table. Timestamps and decimals keep their type so they round-trip. */
export type FieldValue =
  | string
  | number
  | boolean
  | null
  | Buffer
  | FieldValue[]
  | { timestamp: number }
  | { decimal: { places: number; digits: number } }
  | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

export function isTimestamp(v: FieldValue): v is { timestamp: number } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && 'timestamp' in v && Object.keys(v).length === 1 && typeof v.timestamp === 'number';
}

export function isDecimal(v: FieldValue): v is { decimal: { places: number; digits: number } } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && 'decimal' in v && Object.keys(v).length === 1 && typeof v.decimal === 'object';
}
