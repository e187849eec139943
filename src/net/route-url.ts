import type { Network } from './address.js';

/**
 * Rewrite a service URL's host and port to where the run's network routes `hop` (a fault
 * proxy may sit there). `defaultPort` stands in when the URL names none.
 */
export async function routeUrl(network: Network, hop: string, url: string, defaultPort: number): Promise<string> {
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : defaultPort;
  const routed = await network.route(hop, { host: parsed.hostname, port });
  parsed.hostname = routed.host;
  parsed.port = String(routed.port);
  return parsed.toString();
}

/** `--event-store`: `memory` stays as it is; a PostgreSQL URL is routed like any other hop. */
export function routeEventStore(network: Network, hop: string, spec: string): Promise<string> {
  return spec === 'memory' ? Promise.resolve(spec) : routeUrl(network, hop, spec, 5432);
}
