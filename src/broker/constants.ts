/** AMQP 0-9-1 wire constants (spec `amqp0-9-1.xml`, ids cross-checked with amqplib's generated `lib/defs.js`). */

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** Smallest frame-max a peer may negotiate (spec `frame-min-size`). */
export const FRAME_MIN_SIZE = 4096;
/** Bytes of framing around a payload: type(1) channel(2) size(4) … frame-end(1). */
export const FRAME_OVERHEAD = 8;

/** Reply codes (spec `constant` elements). */
export const ReplyCode = {
  SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  CONNECTION_FORCED: 320,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

/** Combined method id: `classId << 16 | methodId`. */
export const M = {
  connectionStart: (10 << 16) | 10,
  connectionStartOk: (10 << 16) | 11,
  connectionSecure: (10 << 16) | 20,
  connectionSecureOk: (10 << 16) | 21,
  connectionTune: (10 << 16) | 30,
  connectionTuneOk: (10 << 16) | 31,
  connectionOpen: (10 << 16) | 40,
  connectionOpenOk: (10 << 16) | 41,
  connectionClose: (10 << 16) | 50,
  connectionCloseOk: (10 << 16) | 51,
  connectionBlocked: (10 << 16) | 60,
  connectionUnblocked: (10 << 16) | 61,
  connectionUpdateSecret: (10 << 16) | 70,
  connectionUpdateSecretOk: (10 << 16) | 71,
  channelOpen: (20 << 16) | 10,
  channelOpenOk: (20 << 16) | 11,
  channelFlow: (20 << 16) | 20,
  channelFlowOk: (20 << 16) | 21,
  channelClose: (20 << 16) | 40,
  channelCloseOk: (20 << 16) | 41,
  exchangeDeclare: (40 << 16) | 10,
  exchangeDeclareOk: (40 << 16) | 11,
  exchangeDelete: (40 << 16) | 20,
  exchangeDeleteOk: (40 << 16) | 21,
  exchangeBind: (40 << 16) | 30,
  exchangeBindOk: (40 << 16) | 31,
  exchangeUnbind: (40 << 16) | 40,
  // RabbitMQ's (and amqplib's) id for exchange.unbind-ok is 51, not 41.
  exchangeUnbindOk: (40 << 16) | 51,
  queueDeclare: (50 << 16) | 10,
  queueDeclareOk: (50 << 16) | 11,
  queueBind: (50 << 16) | 20,
  queueBindOk: (50 << 16) | 21,
  queuePurge: (50 << 16) | 30,
  queuePurgeOk: (50 << 16) | 31,
  queueDelete: (50 << 16) | 40,
  queueDeleteOk: (50 << 16) | 41,
  queueUnbind: (50 << 16) | 50,
  queueUnbindOk: (50 << 16) | 51,
  basicQos: (60 << 16) | 10,
  basicQosOk: (60 << 16) | 11,
  basicConsume: (60 << 16) | 20,
  basicConsumeOk: (60 << 16) | 21,
  basicCancel: (60 << 16) | 30,
  basicCancelOk: (60 << 16) | 31,
  basicPublish: (60 << 16) | 40,
  basicReturn: (60 << 16) | 50,
  basicDeliver: (60 << 16) | 60,
  basicGet: (60 << 16) | 70,
  basicGetOk: (60 << 16) | 71,
  basicGetEmpty: (60 << 16) | 72,
  basicAck: (60 << 16) | 80,
  basicReject: (60 << 16) | 90,
  basicRecoverAsync: (60 << 16) | 100,
  basicRecover: (60 << 16) | 110,
  basicRecoverOk: (60 << 16) | 111,
  basicNack: (60 << 16) | 120,
  txSelect: (90 << 16) | 10,
  txCommit: (90 << 16) | 20,
  txRollback: (90 << 16) | 30,
  confirmSelect: (85 << 16) | 10,
  confirmSelectOk: (85 << 16) | 11,
} as const;

export const CLASS_BASIC = 60;
