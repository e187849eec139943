import { probeBroker } from '../amqp/broker.js';
import { openEventStore } from '../event-store/index.js';
import { PATTERNS } from '../patterns/registry.js';
import type { RunConfig } from './config.js';

/**
 * Check, before anything runs or is written, that the external services the config names
 * are reachable — but only when a selected pattern uses them. Throws a catalogued error
 * (exit 2) naming the option and its value.
 */
export async function preflight(config: RunConfig): Promise<void> {
  const uses = new Set(PATTERNS.filter((p) => config.patterns.includes(p.id)).flatMap((p) => p.uses ?? []));
  if (uses.has('broker') && config.broker !== 'embedded') await probeBroker(config.broker);
  if (uses.has('event-store') && config.eventStore !== 'memory') {
    // Opening checks the URL and the connection; closing drops the store's scratch schema.
    const store = await openEventStore(config.eventStore);
    await store.close();
  }
}
