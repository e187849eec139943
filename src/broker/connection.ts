import { type Socket } from 'node:net';
import { AmqpError } from './amqp-error.js';
import { Channel, type ChannelHost } from './channel.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_MIN_SIZE, M, PROTOCOL_HEADER, ReplyCode } from './constants.js';
import { type FieldTable } from './field-table.js';
import { FrameParser } from './frame-parser.js';
import { FrameWriter } from './frame-writer.js';
import { Reader } from './reader.js';
import { encodeTable } from './table-encoder.js';
import { type VirtualHost } from './vhost.js';

/** Broker-wide settings and hooks a connection uses. */
export interface ConnectionContext {
  readonly vhost: VirtualHost;
  readonly users: Readonly<Record<string, string>>;
  /** Largest frame we accept and offer in connection.tune (bytes). */
  readonly frameMax: number;
  /** Heartbeat we offer in connection.tune (seconds, 0 = off). */
  readonly heartbeat: number;
  readonly channelMax: number;
  readonly serverProperties: FieldTable;
  log(line: string): void;
  closed(conn: Connection): void;
}

type State = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'opened' | 'closing' | 'closed';

/**
 * Deliveries pause while this many bytes wait for the socket (slow consumer, no-ack
 * flood) and resume on 'drain' — our stand-in for RabbitMQ's credit flow.
 */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;

/** A client must finish the handshake (through connection.open) within this (RabbitMQ: 10 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** How long we wait for connection.close-ok after sending connection.close (ms). */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * One client connection: protocol header, the connection-class handshake, frame
 * dispatch to channels, heartbeats and closing. A hard AmqpError anywhere closes the
 * connection with connection.close; nothing a client sends can throw past `onData`.
 */
export class Connection implements ChannelHost {
  readonly out: FrameWriter;
  /** Client address, for log lines. */
  readonly peer: string;
  private readonly parser: FrameParser;
  private state: State = 'header';
  private header: Buffer | null = null;
  private readonly channels = new Map<number, Channel>();
  private channelMax: number;
  frameMax: number;
  cancelNotify = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private receivedSinceCheck = false;
  private missedChecks = 0;
  private confirmDirty: Channel[] = [];
  private user = '';
  private socketClosed = false;
  /** A delivery was held back because the send buffer was full. */
  private starved = false;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.frameMax = ctx.frameMax;
    this.channelMax = ctx.channelMax;
    this.out = new FrameWriter((chunk) => {
      if (socket.destroyed) return;
      // A write the kernel took at once emits no 'drain': resume paused deliveries here.
      if (socket.write(chunk) && this.starved) {
        this.starved = false;
        setImmediate(() => this.resumeDeliveries());
      }
    });
    this.parser = new FrameParser(ctx.frameMax, (type, ch, buf, start, end) => this.onFrame(type, ch, buf, start, end));
    socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(() => {
      this.ctx.log(`connection ${this.peer}: handshake timeout`);
      this.socket.destroy();
    }, HANDSHAKE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('drain', () => {
      this.starved = false;
      this.resumeDeliveries();
    });
    socket.on('close', () => this.onSocketClose());
  }

  get vhost(): VirtualHost {
    return this.ctx.vhost;
  }

  get writable(): boolean {
    const ok = this.socket.writableLength + this.out.pending < WRITE_HIGH_WATER;
    if (!ok) this.starved = true;
    return ok;
  }

  private resumeDeliveries(): void {
    for (const ch of [...this.channels.values()]) ch.resume();
  }

  private onData(chunk: Buffer): void {
    this.receivedSinceCheck = true;
    try {
      let rest: Buffer | null = chunk;
      if (this.state === 'header') rest = this.readHeader(chunk);
      if (rest !== null && rest.length > 0 && this.state !== 'closed') this.parser.push(rest);
    } catch (e) {
      this.fail(e);
    }
    if (this.confirmDirty.length > 0) {
      const dirty = this.confirmDirty;
      this.confirmDirty = [];
      for (const ch of dirty) ch.flushConfirms();
    }
  }

  markConfirmDirty(ch: Channel): void {
    this.confirmDirty.push(ch);
  }

  private readHeader(chunk: Buffer): Buffer | null {
    const buf = this.header === null ? chunk : Buffer.concat([this.header, chunk]);
    if (buf.length < 8) {
      // A prefix that already differs need not wait for the rest.
      if (buf.equals(PROTOCOL_HEADER.subarray(0, buf.length))) {
        this.header = buf;
        return null;
      }
    } else if (buf.subarray(0, 8).equals(PROTOCOL_HEADER)) {
      this.header = null;
      this.sendStart();
      this.state = 'start-ok';
      return buf.subarray(8);
    }
    // Wrong protocol: answer with the header we speak and hang up (spec 4.2.2).
    this.ctx.log(`connection ${this.peer}: bad protocol header, closing`);
    this.state = 'closed';
    this.socket.end(PROTOCOL_HEADER);
    this.armCloseTimer();
    return null;
  }

  private sendStart(): void {
    const props = encodeTable(this.ctx.serverProperties);
    const mechanisms = Buffer.from('PLAIN AMQPLAIN');
    const locales = Buffer.from('en_US');
    const out = this.out;
    out.method(0, M.connectionStart, props.length + 64);
    out.u8(0);
    out.u8(9);
    out.bytes(props);
    out.longstr(mechanisms);
    out.longstr(locales);
    out.end();
  }

  private onFrame(type: number, ch: number, buf: Buffer, start: number, end: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'closing') {
      if (type === FRAME_METHOD && ch === 0 && end - start >= 4) {
        const id = buf.readUInt32BE(start);
        if (id === M.connectionClose) this.emptyMethod(M.connectionCloseOk);
        if (id === M.connectionClose || id === M.connectionCloseOk) this.finish();
      }
      return;
    }
    if (type === FRAME_HEARTBEAT) {
      if (ch !== 0) throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, `type 8, all octets = <<>>`);
      return;
    }
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY) {
      throw new AmqpError(ReplyCode.FRAME_ERROR, `type ${type}, all octets = <<>>: unknown_frame`);
    }
    if (ch === 0) {
      if (type !== FRAME_METHOD) throw new AmqpError(ReplyCode.UNEXPECTED_FRAME, `type ${type} on channel 0`);
      if (end - start < 4) throw new AmqpError(ReplyCode.FRAME_ERROR, 'method frame too short');
      const id = buf.readUInt32BE(start);
      try {
        this.onConnectionMethod(id, new Reader(buf, start + 4, end));
      } catch (e) {
        if (e instanceof AmqpError && e.classId === 0) throw e.withMethod(id);
        throw e;
      }
      return;
    }
    if (this.state !== 'opened') throw new AmqpError(ReplyCode.CHANNEL_ERROR, `channel ${ch} used before connection.open`);
    const channel = this.channels.get(ch);
    if (channel !== undefined) {
      channel.onFrame(type, buf, start, end);
      return;
    }
    if (type === FRAME_METHOD && end - start >= 4 && buf.readUInt32BE(start) === M.channelOpen) {
      if (ch > this.channelMax) {
        throw new AmqpError(ReplyCode.CHANNEL_ERROR, `channel ${ch} exceeds channel_max ${this.channelMax}`, 20, 10);
      }
      const c = new Channel(ch, this);
      this.channels.set(ch, c);
      c.sendOpenOk();
      return;
    }
    throw new AmqpError(ReplyCode.CHANNEL_ERROR, "expected 'channel.open'");
  }

  private onConnectionMethod(id: number, r: Reader): void {
    switch (this.state) {
      case 'start-ok': {
        if (id !== M.connectionStartOk) throw new AmqpError(ReplyCode.COMMAND_INVALID, "expected 'connection.start_ok'");
        const clientProps = r.table();
        const mechanism = r.shortstr();
        const response = r.longstrBytes();
        r.shortstr();
        const caps = clientProps['capabilities'];
        this.cancelNotify = typeof caps === 'object' && caps !== null && (caps as FieldTable)['consumer_cancel_notify'] === true;
        this.authenticate(mechanism, response);
        this.out.method(0, M.connectionTune);
        this.out.u16(this.ctx.channelMax);
        this.out.u32(this.ctx.frameMax);
        this.out.u16(this.ctx.heartbeat);
        this.out.end();
        this.state = 'tune-ok';
        return;
      }
      case 'tune-ok': {
        if (id !== M.connectionTuneOk) throw new AmqpError(ReplyCode.COMMAND_INVALID, "expected 'connection.tune_ok'");
        const channelMax = r.u16();
        const frameMax = r.u32();
        const heartbeat = r.u16();
        // 0 means "no limit", which exceeds ours: RabbitMQ refuses it too.
        if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) {
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`);
        }
        if (frameMax === 0 || frameMax > this.ctx.frameMax) {
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} > ${this.ctx.frameMax} max size`);
        }
        if (channelMax === 0 || channelMax > this.ctx.channelMax) {
          throw new AmqpError(ReplyCode.NOT_ALLOWED, `channel_max=${channelMax} > ${this.ctx.channelMax} max`);
        }
        this.frameMax = frameMax;
        this.parser.frameMax = this.frameMax;
        this.channelMax = channelMax;
        if (heartbeat > 0) this.startHeartbeat(heartbeat);
        this.state = 'open';
        return;
      }
      case 'open': {
        if (id !== M.connectionOpen) throw new AmqpError(ReplyCode.COMMAND_INVALID, "expected 'connection.open'");
        const vhost = r.shortstr();
        if (vhost !== this.vhost.name) throw new AmqpError(ReplyCode.NOT_ALLOWED, `vhost ${vhost} not found`);
        this.out.method(0, M.connectionOpenOk);
        this.out.shortstr('');
        this.out.end();
        this.state = 'opened';
        this.clearHandshakeTimer();
        this.ctx.log(`connection ${this.peer} opened (user '${this.user}')`);
        return;
      }
      default: {
        if (id === M.connectionClose) {
          this.emptyMethod(M.connectionCloseOk);
          this.out.flush();
          this.teardown();
          this.state = 'closed';
          this.socket.end();
          this.armCloseTimer();
          return;
        }
        if (id === M.connectionCloseOk) return;
        if (id === M.connectionUpdateSecret) {
          // Credentials do not expire here; accept the new secret as RabbitMQ does for PLAIN.
          this.emptyMethod(M.connectionUpdateSecretOk);
          return;
        }
        throw new AmqpError(ReplyCode.COMMAND_INVALID, `unexpected method ${id >>> 16}.${id & 0xffff} on channel 0`);
      }
    }
  }

  private authenticate(mechanism: string, response: Buffer): void {
    let user = '';
    let pass = '';
    if (mechanism === 'PLAIN') {
      // authzid NUL authcid NUL passwd
      const parts = response.toString('utf8').split('\u0000');
      user = parts[1] ?? '';
      pass = parts[2] ?? '';
    } else if (mechanism === 'AMQPLAIN') {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(response.length, 0);
      const t = new Reader(Buffer.concat([len, response]), 0, response.length + 4).table();
      user = typeof t['LOGIN'] === 'string' ? t['LOGIN'] : '';
      pass = typeof t['PASSWORD'] === 'string' ? t['PASSWORD'] : '';
    } else {
      throw new AmqpError(ReplyCode.ACCESS_REFUSED, `unsupported authentication mechanism '${mechanism}'`);
    }
    if (!Object.hasOwn(this.ctx.users, user) || this.ctx.users[user] !== pass) {
      throw new AmqpError(
        ReplyCode.ACCESS_REFUSED,
        `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
      );
    }
    this.user = user;
  }

  private startHeartbeat(seconds: number): void {
    // Check twice per period: send a heartbeat if we were silent, and give up after the
    // client has been silent for two whole periods (RabbitMQ's rule).
    this.heartbeatTimer = setInterval(() => {
      if (!this.out.sentSinceCheck) this.out.heartbeat();
      this.out.sentSinceCheck = false;
      if (this.receivedSinceCheck) this.missedChecks = 0;
      else if (++this.missedChecks >= 4) {
        this.ctx.log(`connection ${this.peer}: missed heartbeats from client, timeout: ${seconds}s`);
        this.socket.destroy();
      }
      this.receivedSinceCheck = false;
    }, seconds * 500);
  }

  private emptyMethod(id: number): void {
    this.out.method(0, id);
    this.out.end();
  }

  releaseChannel(ch: Channel): void {
    if (this.channels.get(ch.id) === ch) this.channels.delete(ch.id);
  }

  /** A hard error (or a bug): connection.close with the code, then wait for close-ok. */
  private fail(e: unknown): void {
    let err: AmqpError;
    if (e instanceof AmqpError) err = e;
    else {
      this.ctx.log(`connection ${this.peer}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      err = new AmqpError(ReplyCode.INTERNAL_ERROR, 'internal error');
    }
    if (this.state === 'closing' || this.state === 'closed') return;
    this.ctx.log(`connection ${this.peer}: closing with ${err.replyText}`);
    this.sendClose(err);
  }

  private sendClose(err: AmqpError): void {
    const out = this.out;
    out.method(0, M.connectionClose);
    out.u16(err.code);
    out.shortstr(err.replyText);
    out.u16(err.classId);
    out.u16(err.methodId);
    out.end();
    out.flush();
    this.state = 'closing';
    this.teardown();
    this.armCloseTimer();
  }

  private finish(): void {
    this.out.flush();
    this.state = 'closed';
    this.socket.end();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  /** Broker shutdown: tell the client (320 CONNECTION_FORCED) and hang up. */
  shutdown(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        this.onSocketClose();
        resolve();
        return;
      }
      this.socket.once('close', () => resolve());
      if (this.state === 'opened') {
        this.sendClose(new AmqpError(ReplyCode.CONNECTION_FORCED, 'broker shutdown'));
        this.socket.end();
      } else this.socket.destroy();
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
      this.closeTimer = setTimeout(() => this.socket.destroy(), 200);
    });
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  /** Drops all channel state: unacked messages are requeued, exclusive queues deleted. */
  private teardown(): void {
    this.clearHandshakeTimer();
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const channels = [...this.channels.values()];
    this.channels.clear();
    for (const c of channels) c.abandon();
    for (const q of [...this.vhost.queues.values()]) if (q.owner === this) this.vhost.deleteQueue(q);
  }

  private onSocketClose(): void {
    if (!this.socketClosed && this.user !== '') this.ctx.log(`connection ${this.peer} closed`);
    this.socketClosed = true;
    this.teardown();
    this.out.close();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    if (this.state !== 'closed') this.state = 'closed';
    this.ctx.closed(this);
  }
}
