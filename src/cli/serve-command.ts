import { InvalidOptionError, UnknownNameError } from '../errors.js';
import type { Address } from '../net/address.js';
import type { ComponentApi, ComponentFactory } from '../placement/component.js';
import { ComponentHost } from '../placement/host.js';
import { REST_DEFAULTS, startRestService, type RestServiceInit } from '../patterns/rest/services.js';
import { PATTERNS } from '../patterns/registry.js';
import { seededRandom } from '../random.js';
import { OrderGenerator } from '../workflow/generator.js';
import { EXIT, type CliIo } from './io.js';

/** `pattern-bench serve` as commander hands it over (strings). */
export interface ServeFlags {
  pattern?: string;
  service?: string;
  host?: string;
  port?: string;
  peer?: string[];
  seed?: string;
  resilience?: string;
}

/** What `serve` needs to start one service of a pattern. */
interface ServeRequest {
  readonly service: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly peers: Readonly<Record<string, Address>>;
  readonly seed: number;
  readonly resilience: 'none' | 'default';
}

/** A service's component, ready to start: its factory and init. */
interface ServedComponent {
  readonly factory: ComponentFactory<never, ComponentApi>;
  readonly init: unknown;
  /** The address name it publishes and the URL scheme a peer dials it with. */
  readonly listen: string;
  readonly scheme: string;
}

/** A pattern `serve` can run one service at a time: its services and the peers each needs. */
interface Servable {
  readonly services: readonly string[];
  peersOf(service: string): readonly string[];
  component(request: ServeRequest): ServedComponent;
}

const REST_DOWNSTREAM = ['inventory', 'payments', 'notifications'] as const;

/**
 * REST: four node:http services. inventory and payments start from the generator's world
 * (its SKUs, scarce SKUs, customers and broke customers: the world does not depend on the
 * seed), orders calls the other three at its peers' URLs.
 */
const REST: Servable = {
  services: ['orders', ...REST_DOWNSTREAM],
  peersOf: (service) => (service === 'orders' ? REST_DOWNSTREAM : []),
  component: ({ service, listen, peers, seed, resilience }) => {
    const init: RestServiceInit =
      service === 'orders'
        ? {
            service: 'orders',
            settings: REST_DEFAULTS,
            downstream: { inventory: peer(peers, 'inventory'), payments: peer(peers, 'payments'), notifications: peer(peers, 'notifications') },
            resilience,
            seed,
            listen,
          }
        : { service: service as (typeof REST_DOWNSTREAM)[number], world: new OrderGenerator(seededRandom(seed)).world(), settings: REST_DEFAULTS, listen };
    return { factory: startRestService as ComponentFactory<never, ComponentApi>, init, listen: 'http', scheme: 'http' };
  },
};

/** The patterns `serve` runs; the others are listed in the error (docs/processes.md says what each needs). */
export const SERVABLE: Readonly<Record<string, Servable>> = { rest: REST };

function peer(peers: Readonly<Record<string, Address>>, name: string): Address {
  const address = peers[name];
  if (!address) throw new Error(`no --peer ${name}`); // checked before: parsePeers
  return address;
}

/**
 * `pattern-bench serve --pattern P --service S [--host H] [--port N] [--peer name=url]…`:
 * one service of one pattern as its own OS process, until Ctrl-C or SIGTERM. The line
 * `serving <pattern> <service> on <url> (pid N)` on stderr says where it listens.
 */
export async function serveCommand(flags: ServeFlags, io: CliIo): Promise<number> {
  const patternId = flags.pattern;
  if (patternId === undefined) throw new InvalidOptionError('--pattern', '', `a pattern serve can run: ${Object.keys(SERVABLE).join(', ')}`);
  const servable = SERVABLE[patternId];
  if (!servable) {
    if (!PATTERNS.some((p) => p.id === patternId)) throw new UnknownNameError('--pattern', patternId, PATTERNS.map((p) => p.id));
    throw new InvalidOptionError('--pattern', patternId, `a pattern serve can run: ${Object.keys(SERVABLE).join(', ')} (not yet: ${PATTERNS.map((p) => p.id).filter((id) => !SERVABLE[id]).join(', ')})`);
  }
  const service = flags.service;
  if (service === undefined) throw new InvalidOptionError('--service', '', `one of ${servable.services.join(', ')}`);
  if (!servable.services.includes(service)) throw new UnknownNameError('--service', service, servable.services);
  const host = flags.host ?? '127.0.0.1';
  if (host.trim().length === 0 || /\s/.test(host)) throw new InvalidOptionError('--host', host, 'an address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0');
  const port = portOf('--port', flags.port ?? '0');
  const seed = flags.seed === undefined ? 42 : integer('--seed', flags.seed, 2 ** 32 - 1, 'an integer from 0 to 4294967295');
  const resilience = flags.resilience ?? 'default';
  if (resilience !== 'none' && resilience !== 'default') throw new InvalidOptionError('--resilience', resilience, '"none" or "default"');
  const peers = parsePeers(flags.peer ?? [], servable.peersOf(service), service);

  const served = servable.component({ service, listen: { host, port }, peers, seed, resilience });
  const components = new ComponentHost();
  let started;
  try {
    started = await components.start(`${patternId}:${service}`, service, served.factory, served.init as never, seed);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new InvalidOptionError(port === 0 ? '--host' : '--port', port === 0 ? host : String(port), `an address this machine can listen on (${code})`);
    throw err;
  }
  const address = started.addresses[served.listen];
  io.err(`serving ${patternId} ${service} on ${served.scheme}://${address?.host ?? host}:${address?.port ?? port} (pid ${process.pid}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await components.stopAll();
  io.err(`${patternId} ${service} stopped\n`);
  return EXIT.ok;
}

const PEER_FORM = 'name=http://host:port, e.g. payments=http://127.0.0.1:8082';

/** `--peer name=http://host:port`, each name once, every one the service needs and none it does not. */
export function parsePeers(given: readonly string[], needed: readonly string[], service: string): Record<string, Address> {
  const peers: Record<string, Address> = {};
  for (const text of given) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? '' : text.slice(0, eq);
    if (name.length === 0) throw new InvalidOptionError('--peer', text, PEER_FORM);
    if (!needed.includes(name)) {
      throw needed.length === 0 ? new InvalidOptionError('--peer', text, `no --peer: ${service} calls no other service`) : new UnknownNameError('--peer', name, needed);
    }
    if (peers[name]) throw new InvalidOptionError('--peer', text, `each peer once (${name} is given twice)`);
    peers[name] = addressOf(text, text.slice(eq + 1));
  }
  const missing = needed.filter((n) => !peers[n]);
  if (missing.length > 0) throw new InvalidOptionError('--peer', given.join(' '), `${service} calls ${needed.join(', ')}: give --peer ${missing.map((m) => `${m}=url`).join(' --peer ')}`);
  return peers;
}

function addressOf(option: string, url: string): Address {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError('--peer', option, PEER_FORM);
  }
  if (parsed.protocol !== 'http:' || parsed.port === '' || (parsed.pathname !== '/' && parsed.pathname !== '')) throw new InvalidOptionError('--peer', option, PEER_FORM);
  // URL keeps an IPv6 host in brackets; a socket wants it bare.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port) };
}

function portOf(option: string, text: string): number {
  return integer(option, text, 65_535, 'a port number from 0 to 65535');
}

function integer(option: string, text: string, max: number, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max) throw new InvalidOptionError(option, text, what);
  return n;
}
