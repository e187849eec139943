/**
 * A protocol exception. `hard` errors close the connection (spec "hard-error" codes such
 * as 501–505, 530, 540); soft ones close only the channel. RabbitMQ escalates any hard
 * code raised inside a channel to a connection close, and so do we.
 */
export class AmqpError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
    readonly classId = 0,
    readonly methodId = 0,
  ) {
    super(text);
    this.name = 'AmqpError';
  }

  get hard(): boolean {
    return this.code === 320 || this.code === 402 || this.code >= 500 && this.code !== 506;
  }

  /** The reply-text as RabbitMQ spells it: `NOT_FOUND - no queue 'q' in vhost '/'`. */
  get replyText(): string {
    return `${codeName(this.code)} - ${this.text}`;
  }

  withMethod(method: number): AmqpError {
    return new AmqpError(this.code, this.text, method >>> 16, method & 0xffff);
  }
}

const NAMES: Record<number, string> = {
  311: 'CONTENT_TOO_LARGE',
  312: 'NO_ROUTE',
  320: 'CONNECTION_FORCED',
  403: 'ACCESS_REFUSED',
  404: 'NOT_FOUND',
  405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED',
  501: 'FRAME_ERROR',
  502: 'SYNTAX_ERROR',
  503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR',
  505: 'UNEXPECTED_FRAME',
  506: 'RESOURCE_ERROR',
  530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED',
  541: 'INTERNAL_ERROR',
};

export function codeName(code: number): string {
  return NAMES[code] ?? `ERROR_${code}`;
}
