import { probeBroker } from '../amqp/broker.js';
import { bindingsOf, startEventService, type EventService, type EventServiceInit } from '../amqp/service.js';
import type { EventWorkflow } from '../amqp/events.js';
import { makeTopology } from '../amqp/topology.js';
import { ConflictingOptionsError, InvalidOptionError, UnknownNameError } from '../errors.js';
import type { Address } from '../net/address.js';
import type { ComponentApi, ComponentFactory } from '../placement/component.js';
import { ComponentHost } from '../placement/host.js';
import { GRPC_DEFAULTS, startGrpcService, type GrpcServiceInit } from '../patterns/grpc/services.js';
import { REST_DEFAULTS, startRestService, type RestServiceInit } from '../patterns/rest/services.js';
import { queueWorkflow } from '../patterns/queue/index.js';
import { PATTERNS } from '../patterns/registry.js';
import { choreographyWorkflow } from '../patterns/saga-choreography/index.js';
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
  broker?: string;
  seed?: string;
  resilience?: string;
}

/** What `serve` needs to start one service of a pattern. */
interface ServeRequest {
  readonly service: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly peers: Readonly<Record<string, Address>>;
  /** The broker's URL, for the services of an event-driven pattern. */
  readonly broker: string;
  readonly seed: number;
  readonly resilience: 'none' | 'default';
}

/** A service's component, ready to start: its factory and init. */
interface ServedComponent {
  readonly factory: ComponentFactory<never, ComponentApi>;
  readonly init: unknown;
  /** Where it can be reached, for the `serving …` line: `on http://host:port`, or `through amqp://…`. */
  where(addresses: Readonly<Record<string, Address>>): string;
}

/** A pattern `serve` can run one service at a time: its services and the peers each needs. */
interface Servable {
  /** `listen`: each service listens (--host, --port) and orders calls its --peer's; `broker`: each connects to --broker, and listens on nothing. */
  readonly reached: 'listen' | 'broker';
  readonly services: readonly string[];
  peersOf(service: string): readonly string[];
  component(request: ServeRequest): ServedComponent;
}

const DOWNSTREAM = ['inventory', 'payments', 'notifications'] as const;
type Downstream = (typeof DOWNSTREAM)[number];

/** Orders' downstream addresses, from its --peer's (all three checked by parsePeers). */
function downstreamOf(peers: Readonly<Record<string, Address>>): Record<Downstream, Address> {
  return { inventory: peer(peers, 'inventory'), payments: peer(peers, 'payments'), notifications: peer(peers, 'notifications') };
}

/** `on http://host:port`: where a listening service is reached (gRPC's cleartext HTTP/2 too). */
const listening = (name: string, listen: { readonly host: string; readonly port: number }) => (addresses: Readonly<Record<string, Address>>) =>
  `on http://${addresses[name]?.host ?? listen.host}:${addresses[name]?.port ?? listen.port}`;

/**
 * REST: four node:http services. inventory and payments start from the generator's world
 * (its SKUs, scarce SKUs, customers and broke customers: the world does not depend on the
 * seed), orders calls the other three at its peers' URLs.
 */
const REST: Servable = {
  reached: 'listen',
  services: ['orders', ...DOWNSTREAM],
  peersOf: (service) => (service === 'orders' ? DOWNSTREAM : []),
  component: ({ service, listen, peers, seed, resilience }) => {
    const init: RestServiceInit =
      service === 'orders'
        ? { service: 'orders', settings: REST_DEFAULTS, downstream: downstreamOf(peers), resilience, seed, listen }
        : { service: service as Downstream, world: new OrderGenerator(seededRandom(seed)).world(), settings: REST_DEFAULTS, listen };
    return { factory: startRestService as ComponentFactory<never, ComponentApi>, init, where: listening('http', listen) };
  },
};

/**
 * gRPC (and grpc-stream, whose services are gRPC's: only its client differs): the same
 * four services over grpc-js, orders calling the participants at its peers' addresses
 * (`--peer inventory=http://host:port`: cleartext HTTP/2).
 */
const GRPC: Servable = {
  reached: 'listen',
  services: ['orders', ...DOWNSTREAM],
  peersOf: (service) => (service === 'orders' ? DOWNSTREAM : []),
  component: ({ service, listen, peers, seed, resilience }) => {
    const init: GrpcServiceInit =
      service === 'orders'
        ? { service: 'orders', settings: GRPC_DEFAULTS, downstream: downstreamOf(peers), resilience, seed, listen }
        : { service: service as Downstream, world: new OrderGenerator(seededRandom(seed)).world(), settings: GRPC_DEFAULTS, listen };
    return { factory: startGrpcService as ComponentFactory<never, ComponentApi>, init, where: listening('grpc', listen) };
  },
};

/** What the served services of an event-driven pattern name their exchange and queues with (a run's own id in `run`): `pb.serve.<workflow>.…`. */
export const SERVE_RUN_ID = 'serve';

/** Unacked deliveries per consumer, as in `run` (src/amqp/system.ts). */
const PREFETCH = 64;

/**
 * Queue, choreographed saga: four AMQP services, each with its own connection to the
 * broker (`--broker`: RabbitMQ, or `pattern-bench broker`), on the exchange and queues of
 * `makeTopology(<workflow>, SERVE_RUN_ID, …)`, which every service declares. A client
 * publishes `command.place-order` ({order}) and hears the outcome on its queue `client`.
 */
function eventDriven(workflow: EventWorkflow, moduleName: string, exportName: string): Servable {
  // The module a service loads the workflow from (services.ts imports it by reference, as a worker would).
  const url = new URL(`../patterns/${moduleName}/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;
  return {
    reached: 'broker',
    services: ['orders', 'inventory', 'payments', 'notifications'],
    peersOf: () => [],
    component: ({ service, broker, seed }) => {
      const init: EventServiceInit = {
        workflow: { url, exportName },
        service: service as EventService,
        url: broker,
        topology: makeTopology(workflow.name, SERVE_RUN_ID, bindingsOf(workflow)),
        ack: 'manual',
        prefetch: PREFETCH,
        world: new OrderGenerator(seededRandom(seed)).world(),
      };
      return { factory: startEventService as ComponentFactory<never, ComponentApi>, init, where: () => `through ${redacted(broker)}` };
    },
  };
}

/** A broker URL without its password, for the log line. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The patterns `serve` runs; the others are listed in the error (docs/processes.md says what each needs). */
export const SERVABLE: Readonly<Record<string, Servable>> = {
  rest: REST,
  grpc: GRPC,
  'grpc-stream': GRPC,
  queue: eventDriven(queueWorkflow, 'queue', 'queueWorkflow'),
  'saga-choreography': eventDriven(choreographyWorkflow, 'saga-choreography', 'choreographyWorkflow'),
};

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
  const broker = brokerOf(patternId, servable, flags);
  if (servable.reached === 'broker') await probeBroker(broker); // unreachable: one line, exit 2

  const served = servable.component({ service, listen: { host, port }, peers, broker, seed, resilience });
  const components = new ComponentHost();
  let started;
  try {
    started = await components.start(`${patternId}:${service}`, service, served.factory, served.init as never, seed, true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new InvalidOptionError(port === 0 ? '--host' : '--port', port === 0 ? host : String(port), `an address this machine can listen on (${code})`);
    throw err;
  }
  io.err(`serving ${patternId} ${service} ${served.where(started.addresses)} (pid ${process.pid}); Ctrl-C to stop\n`);
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

/** `--broker` for a pattern whose services meet at a broker; refused for one that has none, as --host and --port are for one that listens on nothing. */
function brokerOf(patternId: string, servable: Servable, flags: ServeFlags): string {
  if (servable.reached === 'listen') {
    if (flags.broker !== undefined) throw new ConflictingOptionsError(['--pattern ' + patternId, '--broker'], `${patternId}'s services call each other directly, through no broker`);
    return '';
  }
  for (const option of ['host', 'port'] as const) {
    if (flags[option] !== undefined) throw new ConflictingOptionsError([`--pattern ${patternId}`, `--${option}`], `${patternId}'s services listen on nothing: each connects to the broker (--broker)`);
  }
  const broker = flags.broker;
  if (broker === undefined) throw new InvalidOptionError('--broker', '', `the broker ${patternId}'s services meet at: an amqp:// URL (RabbitMQ, or \`pattern-bench broker\`)`);
  if (!/^amqps?:\/\/[^\s]+$/.test(broker)) throw new InvalidOptionError('--broker', broker, 'an amqp:// URL');
  return broker;
}

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
