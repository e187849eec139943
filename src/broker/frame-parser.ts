import { AmqpError } from './amqp-error.js';
import { FRAME_END, FRAME_OVERHEAD, ReplyCode } from './constants.js';

/** Receives one complete frame; `payload` spans `buf[start, end)`. */
export type FrameSink = (type: number, channel: number, buf: Buffer, start: number, end: number) => void;

/**
 * Incremental frame splitter. Frames are handed over as views into the received chunks
 * (no copy); only a frame straddling two chunks is assembled into a fresh buffer.
 * Throws AmqpError 501 for an oversized frame or a bad frame-end octet.
 */
export class FrameParser {
  private pending: Buffer | null = null;
  /** Largest accepted frame including its 8 bytes of framing. */
  frameMax: number;
  /** Set by the sink to stop parsing (connection closing). */
  stopped = false;

  constructor(
    frameMax: number,
    private readonly sink: FrameSink,
  ) {
    this.frameMax = frameMax;
  }

  push(input: Buffer): void {
    let chunk = input;
    while (this.pending !== null) {
      let p: Buffer = this.pending;
      if (p.length < 7) {
        const take = Math.min(7 - p.length, chunk.length);
        p = Buffer.concat([p, chunk.subarray(0, take)]);
        chunk = chunk.subarray(take);
        if (p.length < 7) {
          this.pending = p;
          return;
        }
      }
      const total = this.checkSize(p.readUInt32BE(3));
      const take = Math.min(total - p.length, chunk.length);
      if (take > 0) {
        p = Buffer.concat([p, chunk.subarray(0, take)]);
        chunk = chunk.subarray(take);
      }
      if (p.length < total) {
        this.pending = p;
        return;
      }
      this.pending = null;
      this.emit(p, 0, total);
      if (this.stopped) return;
    }
    const len = chunk.length;
    let pos = 0;
    while (len - pos >= 7) {
      const total = this.checkSize(chunk.readUInt32BE(pos + 3));
      if (len - pos < total) break;
      this.emit(chunk, pos, total);
      pos += total;
      if (this.stopped) return;
    }
    if (pos < len) this.pending = chunk.subarray(pos);
  }

  private checkSize(size: number): number {
    const total = size + FRAME_OVERHEAD;
    if (total > this.frameMax) {
      throw new AmqpError(ReplyCode.FRAME_ERROR, `type 1, all octets = <<>>: {frame_too_large,${size},${this.frameMax - FRAME_OVERHEAD}}`);
    }
    return total;
  }

  private emit(buf: Buffer, pos: number, total: number): void {
    if (buf[pos + total - 1] !== FRAME_END) {
      throw new AmqpError(ReplyCode.FRAME_ERROR, `frame end marker 0x${(buf[pos + total - 1] ?? 0).toString(16)} is not 0xce`);
    }
    this.sink(buf[pos] as number, buf.readUInt16BE(pos + 1), buf, pos + 7, pos + total - 1);
  }
}
