import { AmqpError } from './amqp-error.js';
import { ReplyCode } from './constants.js';
import { type FieldTable, type FieldValue } from './field-table.js';

const MAX_DEPTH = 64;

/** Bounds-checked cursor over one frame payload; any overrun is a 501 FRAME_ERROR. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    /** Nesting level of tables/arrays, bounded so hostile input cannot blow the stack. */
    private readonly depth = 0,
  ) {}

  private nested(end: number): Reader {
    if (this.depth >= MAX_DEPTH) throw new AmqpError(ReplyCode.FRAME_ERROR, `cannot decode field table: nested deeper than ${MAX_DEPTH}`);
    return new Reader(this.buf, this.pos, end, this.depth + 1);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new AmqpError(ReplyCode.FRAME_ERROR, 'cannot decode frame: truncated payload');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** 64-bit unsigned as a double; delivery tags and body sizes stay far below 2^53. */
  u64(): number {
    this.need(8);
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  shortstr(): string {
    const len = this.u8();
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  longstrBytes(): Buffer {
    const len = this.u32();
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  longstr(): string {
    return this.longstrBytes().toString('utf8');
  }

  table(): FieldTable {
    const len = this.u32();
    this.need(len);
    const end = this.pos + len;
    const sub = this.nested(end);
    const out: FieldTable = {};
    while (sub.pos < end) {
      const key = sub.shortstr();
      // defineProperty, not assignment: a key named "__proto__" must stay a plain key.
      Object.defineProperty(out, key, { value: sub.fieldValue(), enumerable: true, writable: true, configurable: true });
    }
    this.pos = end;
    return out;
  }

  private array(): FieldValue[] {
    const len = this.u32();
    this.need(len);
    const end = this.pos + len;
    const sub = this.nested(end);
    const out: FieldValue[] = [];
    while (sub.pos < end) out.push(sub.fieldValue());
    this.pos = end;
    return out;
  }

  /** Field value types as RabbitMQ defines them (its errata to the 0-9-1 table). */
  fieldValue(): FieldValue {
    const tag = this.u8();
    switch (tag) {
      case 0x74: // t
        return this.u8() !== 0;
      case 0x62: // b
        this.need(1);
        return this.buf.readInt8(this.pos++);
      case 0x42: // B
        return this.u8();
      case 0x73: {
        // s
        this.need(2);
        const v = this.buf.readInt16BE(this.pos);
        this.pos += 2;
        return v;
      }
      case 0x75: // u
        return this.u16();
      case 0x49: {
        // I
        this.need(4);
        const v = this.buf.readInt32BE(this.pos);
        this.pos += 4;
        return v;
      }
      case 0x69: // i
        return this.u32();
      case 0x6c: {
        // l
        this.need(8);
        const v = Number(this.buf.readBigInt64BE(this.pos));
        this.pos += 8;
        return v;
      }
      case 0x66: {
        // f
        this.need(4);
        const v = this.buf.readFloatBE(this.pos);
        this.pos += 4;
        return v;
      }
      case 0x64: {
        // d
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case 0x44: {
        // D
        const places = this.u8();
        const digits = this.u32();
        return { decimal: { places, digits } };
      }
      case 0x53: // S
        return this.longstr();
      case 0x78: // x
        return Buffer.from(this.longstrBytes());
      case 0x41: // A
        return this.array();
      case 0x54: // T
        return { timestamp: this.u64() };
      case 0x46: // F
        return this.table();
      case 0x56: // V
        return null;
      default:
        throw new AmqpError(ReplyCode.FRAME_ERROR, `cannot decode field table: unknown type tag ${tag}`);
    }
  }
}
