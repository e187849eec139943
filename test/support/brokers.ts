import { serviceUrl } from './services.js';

/**
 * The brokers a pattern test runs against: the embedded one always, RabbitMQ when
 * AMQP_URL is set (CI sets it with PB_REQUIRE_SERVICES=1, so an unreachable RabbitMQ
 * fails the test instead of skipping it, and an unset AMQP_URL fails at once).
 */
const AMQP_URL = serviceUrl('AMQP_URL');
export const BROKERS: readonly string[] = ['embedded', ...(AMQP_URL ? [AMQP_URL] : [])];

export const brokerName = (spec: string): string => (spec === 'embedded' ? 'embedded broker' : 'RabbitMQ');
