/**
 * One place decides whether the tests that need a real service (RabbitMQ, PostgreSQL) run.
 * Without the service's URL they are skipped — unless PB_REQUIRE_SERVICES=1 (CI), where a
 * missing URL is an error at once, not a quiet skip.
 */
export type ServiceUrl = 'AMQP_URL' | 'DATABASE_URL';

/** The URL of a required service, or undefined to skip its tests. Throws when required and unset. */
export function serviceUrl(name: ServiceUrl, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const url = env[name];
  if (url !== undefined && url !== '') return url;
  if (env.PB_REQUIRE_SERVICES === '1') {
    throw new Error(`PB_REQUIRE_SERVICES=1 but ${name} is not set: the tests that need it cannot run, and must not be skipped`);
  }
  return undefined;
}

export const REQUIRE_SERVICES = process.env.PB_REQUIRE_SERVICES === '1';
