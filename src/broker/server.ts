import { createServer, type Server } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { Connection, type ConnectionContext } from './connection.js';
import { FRAME_MIN_SIZE } from './constants.js';
import { VirtualHost } from './vhost.js';

export const BROKER_PRODUCT = 'pattern-bench embedded broker';
export const BROKER_VERSION = '0.1.0';

/** Options of {@link startBroker}; every field is optional. */
export interface BrokerOptions {
  /** TCP port; default 0 (ephemeral). */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** user → password for SASL PLAIN/AMQPLAIN; default { guest: 'guest' }. */
  users?: Record<string, string>;
  /** Largest frame offered in connection.tune, bytes incl. framing; default 131072. */
  frameMax?: number;
  /** Heartbeat offered in connection.tune, seconds (0 = off); default 60. */
  heartbeat?: number;
  /** Where connection-level events are reported; default: nowhere. */
  log?: (line: string) => void;
}

export interface QueueStats {
  name: string;
  /** Ready messages. */
  depth: number;
  unacked: number;
  consumers: number;
}

export interface BrokerStats {
  connections: number;
  queues: QueueStats[];
}

export interface EmbeddedBroker {
  /** amqp://user:pass@host:port for the first configured user. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly product: string;
  readonly version: string;
  stats(): BrokerStats;
  /** Closes every connection, timer and the listening socket. */
  stop(): Promise<void>;
}

const DEFAULTS = { port: 0, host: '127.0.0.1', frameMax: 131072, heartbeat: 60, channelMax: 2047 } as const;

function validate(options: BrokerOptions): void {
  const intIn = (name: string, v: number | undefined, min: number, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
      throw new InvalidOptionError(name, v, `an integer from ${min} to ${max}`);
    }
  };
  intIn('port', options.port, 0, 65535);
  intIn('frameMax', options.frameMax, FRAME_MIN_SIZE, 0xffffffff);
  intIn('heartbeat', options.heartbeat, 0, 65535);
  if (options.users !== undefined && Object.keys(options.users).length === 0) {
    throw new InvalidOptionError('users', options.users, 'at least one user');
  }
}

/** Starts the embedded AMQP 0-9-1 broker; resolves once it is listening. */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  validate(options);
  const host = options.host ?? DEFAULTS.host;
  const users = { ...(options.users ?? { guest: 'guest' }) };
  const log = options.log ?? (() => {});
  const vhost = new VirtualHost();
  const connections = new Set<Connection>();
  const ctx: ConnectionContext = {
    vhost,
    users,
    frameMax: options.frameMax ?? DEFAULTS.frameMax,
    heartbeat: options.heartbeat ?? DEFAULTS.heartbeat,
    channelMax: DEFAULTS.channelMax,
    serverProperties: {
      product: BROKER_PRODUCT,
      version: BROKER_VERSION,
      platform: `Node.js ${process.version}`,
      information: 'AMQP 0-9-1 broker embedded in pattern-bench',
      cluster_name: 'pattern-bench',
      capabilities: {
        publisher_confirms: true,
        'basic.nack': true,
        consumer_cancel_notify: true,
        per_consumer_qos: true,
        authentication_failure_close: true,
        exchange_exchange_bindings: true,
        'connection.blocked': false,
      },
    },
    log,
    closed: (c) => {
      connections.delete(c);
    },
  };
  const server: Server = createServer((socket) => {
    connections.add(new Connection(socket, ctx));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULTS.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const [user, pass] = Object.entries(users)[0] as [string, string];
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | null = null;
  return {
    url: `amqp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${urlHost}:${port}`,
    host,
    port,
    product: BROKER_PRODUCT,
    version: BROKER_VERSION,
    stats: () => ({
      connections: connections.size,
      queues: [...vhost.queues.values()].map((q) => ({
        name: q.name,
        depth: q.ready.length,
        unacked: q.unacked,
        consumers: q.consumers.length,
      })),
    }),
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.shutdown()));
        for (const q of [...vhost.queues.values()]) vhost.deleteQueue(q);
        await closed;
      })();
      return stopping;
    },
  };
}
