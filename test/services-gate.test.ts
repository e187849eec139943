import { describe, expect, it } from 'vitest';
import { serviceUrl } from './support/services.js';

describe('tests that need RabbitMQ or PostgreSQL', () => {
  it('skip without the URL, run with it, and fail at once under PB_REQUIRE_SERVICES=1 when the URL is missing', () => {
    expect(serviceUrl('AMQP_URL', {})).toBeUndefined();
    expect(serviceUrl('DATABASE_URL', { DATABASE_URL: '' })).toBeUndefined();
    expect(serviceUrl('AMQP_URL', { AMQP_URL: 'amqp://h:5672' })).toBe('amqp://h:5672');
    expect(serviceUrl('DATABASE_URL', { PB_REQUIRE_SERVICES: '1', DATABASE_URL: 'postgres://h/db' })).toBe('postgres://h/db');
    expect(() => serviceUrl('AMQP_URL', { PB_REQUIRE_SERVICES: '1' })).toThrow('PB_REQUIRE_SERVICES=1 but AMQP_URL is not set: the tests that need it cannot run, and must not be skipped');
    expect(() => serviceUrl('DATABASE_URL', { PB_REQUIRE_SERVICES: '1', DATABASE_URL: '' })).toThrow('PB_REQUIRE_SERVICES=1 but DATABASE_URL is not set');
  });
});
