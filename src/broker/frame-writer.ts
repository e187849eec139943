import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_METHOD, FRAME_OVERHEAD, CLASS_BASIC } from './constants.js';

const SLAB_SIZE = 256 * 1024;
/** Upper bound of a method frame made of fixed fields and at most four shortstrs. */
const METHOD_MAX = 1100;

/**
 * Builds outgoing frames straight into a slab and hands the written region to the
 * socket once per event-loop turn — one `socket.write` for many frames, no per-frame
 * allocation or Buffer.concat. Written regions are never overwritten: when the slab is
 * full a new one is allocated, so a write the kernel has not taken yet stays intact.
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private start = 0;
  private pos = 0;
  private frameStart = 0;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;
  /** Bytes handed to the socket since the last heartbeat check. */
  sentSinceCheck = false;

  constructor(private readonly sink: (chunk: Buffer) => void) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    this.flush();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.start = 0;
    this.pos = 0;
  }

  private schedule(): void {
    if (this.immediate === null && !this.closed) this.immediate = setImmediate(this.flushCb);
  }

  private readonly flushCb = (): void => {
    this.immediate = null;
    this.flush();
  };

  /** Bytes written but not yet handed to the sink. */
  get pending(): number {
    return this.pos - this.start;
  }

  /** Hands everything written so far to the sink. */
  flush(): void {
    if (this.pos > this.start && !this.closed) {
      this.sink(this.slab.subarray(this.start, this.pos));
      this.sentSinceCheck = true;
    }
    this.start = this.pos;
  }

  /** Drops pending output and stops scheduling; the writer is dead afterwards. */
  close(): void {
    this.closed = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
  }

  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.slab, this.pos);
    this.pos += bytes.length;
    this.schedule();
  }

  /** Starts a method frame; `maxPayload` must bound everything written before `end()`. */
  method(channel: number, id: number, maxPayload = METHOD_MAX): void {
    this.ensure(maxPayload + FRAME_OVERHEAD + 4);
    const s = this.slab;
    const p = this.pos;
    this.frameStart = p;
    s[p] = FRAME_METHOD;
    s.writeUInt16BE(channel, p + 1);
    s.writeUInt32BE(id >>> 0, p + 7);
    this.pos = p + 11;
  }

  end(): void {
    const s = this.slab;
    s.writeUInt32BE(this.pos - this.frameStart - 7, this.frameStart + 3);
    s[this.pos++] = FRAME_END;
    this.schedule();
  }

  u8(v: number): void {
    this.slab[this.pos++] = v;
  }

  u16(v: number): void {
    this.slab.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.slab.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  u64(v: number): void {
    this.slab.writeUInt32BE(Math.floor(v / 0x100000000), this.pos);
    this.slab.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** Names are limited to 255 bytes by every decoder that produced them. */
  shortstr(v: string): void {
    const n = this.slab.write(v, this.pos + 1, 255, 'utf8');
    this.slab[this.pos] = n;
    this.pos += 1 + n;
  }

  /** Writes bytes that were reserved by `method(…, maxPayload)`. */
  bytes(b: Buffer): void {
    b.copy(this.slab, this.pos);
    this.pos += b.length;
  }

  longstr(b: Buffer): void {
    this.u32(b.length);
    this.bytes(b);
  }

  /** Content header + body frames, bodies split so that no frame exceeds frameMax. */
  content(channel: number, props: Buffer, body: Buffer, frameMax: number): void {
    this.ensure(props.length + 14 + FRAME_OVERHEAD);
    const s = this.slab;
    let p = this.pos;
    s[p] = FRAME_HEADER;
    s.writeUInt16BE(channel, p + 1);
    s.writeUInt32BE(12 + props.length, p + 3);
    s.writeUInt16BE(CLASS_BASIC, p + 7);
    s.writeUInt16BE(0, p + 9);
    s.writeUInt32BE(Math.floor(body.length / 0x100000000), p + 11);
    s.writeUInt32BE(body.length >>> 0, p + 15);
    props.copy(s, p + 19);
    p += 19 + props.length;
    s[p++] = FRAME_END;
    this.pos = p;
    const maxBody = frameMax - FRAME_OVERHEAD;
    for (let off = 0; off < body.length; off += maxBody) {
      const n = Math.min(maxBody, body.length - off);
      this.ensure(n + FRAME_OVERHEAD);
      const t = this.slab;
      const q = this.pos;
      t[q] = FRAME_BODY;
      t.writeUInt16BE(channel, q + 1);
      t.writeUInt32BE(n, q + 3);
      body.copy(t, q + 7, off, off + n);
      t[q + 7 + n] = FRAME_END;
      this.pos = q + 8 + n;
    }
    this.schedule();
  }

  heartbeat(): void {
    this.raw(HEARTBEAT);
  }
}

const HEARTBEAT = Buffer.from([8, 0, 0, 0, 0, 0, 0, FRAME_END]);
