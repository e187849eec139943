import { startBroker } from '../broker/server.js';
import type { ComponentFactory } from '../placement/component.js';

/**
 * The embedded AMQP broker as a part of the system under test: it runs on the thread the
 * placement gives it (its own under `per-service`, as RabbitMQ has its own process) and is
 * spoken to over TCP on 127.0.0.1 by every service. Publishes its address as `amqp`.
 */
export const startEmbeddedBroker: ComponentFactory<Record<never, never>, { info(): { product: string; version: string } }> = async () => {
  const broker = await startBroker({ port: 0, host: '127.0.0.1' });
  return {
    addresses: { amqp: { host: '127.0.0.1', port: broker.port } },
    api: { info: () => ({ product: broker.product, version: broker.version }) },
    stop: () => broker.stop(),
  };
};
