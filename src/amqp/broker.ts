import { connect } from 'amqplib';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBroker, startBrokerInWorker } from '../broker/index.js';
import { ServiceUnreachableError } from '../errors.js';
import { routeUrl } from '../net/route-url.js';
import type { Network } from '../net/address.js';

/** The broker a pattern talks to: the embedded one (started here) or a given RabbitMQ. */
export interface BrokerHandle {
  /** URL of the broker itself (before any routing). */
  readonly url: string;
  /** `embedded` or `amqp` — what --broker chose. */
  readonly kind: 'embedded' | 'amqp';
  /** Where the embedded broker runs; null for an external one. */
  readonly placement: 'worker' | 'same-thread' | null;
  /** Dial URL for one hop, routed through the run's network (a fault proxy may sit there). */
  urlFor(hop: string): Promise<string>;
  stop(): Promise<void>;
}

/** Where the embedded broker runs: its own thread when the compiled worker exists (a built run), else this one. */
function embeddedPlacement(): 'worker' | 'same-thread' {
  if (process.env.PB_BROKER_PLACEMENT === 'same-thread') return 'same-thread';
  return existsSync(fileURLToPath(new URL('../broker/worker-main.js', import.meta.url))) ? 'worker' : 'same-thread';
}

/** Start the embedded broker for `embedded`, or use the amqp:// URL as it is. */
export async function openBroker(spec: string, network: Network): Promise<BrokerHandle> {
  const placement = spec === 'embedded' ? embeddedPlacement() : null;
  const embedded = placement === 'worker' ? await startBrokerInWorker() : placement === 'same-thread' ? await startBroker() : undefined;
  const url = embedded ? embedded.url : spec;
  return {
    url,
    kind: embedded ? 'embedded' : 'amqp',
    placement,
    urlFor: (hop) => routeUrl(network, hop, url, new URL(url).protocol === 'amqps:' ? 5671 : 5672),
    stop: async () => {
      await embedded?.stop();
    },
  };
}

/**
 * Connect once to check that `--broker` is reachable; resolves with its product and
 * version. An unreachable broker or bad credentials → ServiceUnreachableError (exit 2).
 */
export async function probeBroker(url: string, timeoutMs = 3000): Promise<{ product: string; version: string }> {
  try {
    const conn = await connect(url, { timeout: timeoutMs, noDelay: true });
    const props = conn.connection.serverProperties;
    await conn.close();
    return { product: String(props.product ?? 'unknown'), version: String(props.version ?? '') };
  } catch (err) {
    const reason = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
    throw new ServiceUnreachableError('--broker', url, reason);
  }
}
