import { probeBroker } from '../amqp/broker.js';
import { bindingsOf, startEventService, type EventService, type EventServiceInit } from '../amqp/service.js';
import type { EventWorkflow } from '../amqp/events.js';
import { makeTopology } from '../amqp/topology.js';
import { ConflictingOptionsError, InvalidOptionError, UnknownNameError } from '../errors.js';
import { formatEventStoreUrl, parseEventStoreUrl } from '../event-store/wire.js';
import { parsePostgresUrl } from '../event-store/postgres.js';
import type { Address } from '../net/address.js';
import type { ComponentApi, ComponentFactory } from '../placement/component.js';
import { ComponentHost } from '../placement/host.js';
import { GRPC_DEFAULTS, startGrpcService, type GrpcServiceInit } from '../patterns/grpc/services.js';
import { REST_DEFAULTS, startRestService, type RestServiceInit } from '../patterns/rest/services.js';
import { ES_DEFAULTS } from '../patterns/event-sourcing/index.js';
import {
  startCommandHandler,
  startProcessor,
  startProjection,
  startStoreServer,
  type CommandHandlerInit,
  type ProcessorInit,
  type ProcessorService,
  type ProjectionInit,
  type StoreServerInit,
  type StoreSpec,
} from '../patterns/event-sourcing/components.js';
import { POSTGRES_POOL_PER_COMPONENT } from '../patterns/placed-store.js';
import { startOrchestrator, type OrchestratorInit } from '../patterns/saga-orchestration/component.js';
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
  eventStore?: string;
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
  /** The event store, for a service that reads and appends to one (`local`: the orchestrator's own memory). */
  readonly store: StoreSpec | undefined;
  readonly seed: number;
  readonly resilience: 'none' | 'default';
}

/** A service's component, ready to start: its factory and init. */
interface ServedComponent {
  readonly factory: ComponentFactory<never, ComponentApi>;
  readonly init: unknown;
  /** Where it can be reached, for the `serving …` line: `on http://host:port` (`on pbes://…` for the store), or `through amqp://…` (`through pbes://…`, `through postgres://…`). */
  where(addresses: Readonly<Record<string, Address>>): string;
}

/** Why an option is refused for a service that has no use for it: what the error pairs it with (`--pattern P` or `--service S`), and the reason. */
type Refusal = readonly [pairedWith: string, why: string];

/** The options not every service takes. */
type Refusable = '--host' | '--port' | '--broker' | '--event-store';

/** A pattern `serve` can run one service at a time: its services, the peers each needs, and what each meets at. */
interface Servable {
  readonly services: readonly string[];
  peersOf(service: string): readonly string[];
  /** Whether the service listens (--host, --port). */
  listens(service: string): boolean;
  /** Whether its services connect to --broker. */
  readonly broker: boolean;
  /** Whether the service reads and appends to --event-store: it must, it may (its own memory without it), or it keeps none. */
  store(service: string): 'required' | 'optional' | 'none';
  /** Why `option` makes no sense for `service` of `pattern` (asked only for one it does not take). */
  refuse(option: Refusable, pattern: string, service: string): Refusal;
  component(request: ServeRequest): ServedComponent;
}

/** The refusals of a pattern whose services listen, call each other directly and keep their state in memory. */
function direct(option: Refusable, pattern: string): Refusal {
  return [`--pattern ${pattern}`, option === '--broker' ? `${pattern}'s services call each other directly, through no broker` : noStore(pattern)];
}

const noStore = (pattern: string) => `${pattern}'s services keep their state in memory: they use no event store`;

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
  services: ['orders', ...DOWNSTREAM],
  peersOf: (service) => (service === 'orders' ? DOWNSTREAM : []),
  listens: () => true,
  broker: false,
  store: () => 'none',
  refuse: direct,
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
  services: ['orders', ...DOWNSTREAM],
  peersOf: (service) => (service === 'orders' ? DOWNSTREAM : []),
  listens: () => true,
  broker: false,
  store: () => 'none',
  refuse: direct,
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
    services: ['orders', 'inventory', 'payments', 'notifications'],
    peersOf: () => [],
    listens: () => false,
    broker: true,
    store: () => 'none',
    refuse: (option, pattern) => [`--pattern ${pattern}`, option === '--event-store' ? noStore(pattern) : `${pattern}'s services listen on nothing: each connects to the broker (--broker)`],
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

/** The service that is the event store: the embedded store server, the log in its memory, for the services of another process to reach. */
const EVENT_STORE = 'event-store';

/** The PostgreSQL schema every served service of event-sourcing and saga-orchestration opens (a run's is a fresh one): one log per database. */
export const SERVE_SCHEMA = 'pattern_bench_serve';

/** `--service event-store` is the store: it reaches none. */
const STORE_IS_STORE: Refusal = [`--service ${EVENT_STORE}`, `${EVENT_STORE} is the store: the other services are given its URL as --event-store pbes://host:port`];

/** The event store service: the embedded store server on --host and --port, as `run` places it (`startStoreServer`). */
function storeServer(listen: Address): ServedComponent {
  return {
    factory: startStoreServer as ComponentFactory<never, ComponentApi>,
    init: { listen } satisfies StoreServerInit,
    where: (addresses) => `on ${formatEventStoreUrl(addresses.pbes ?? listen)}`,
  };
}

/** The store a service was given (checked by storeOf before a component is built). */
function givenStore(store: StoreSpec | undefined): StoreSpec {
  if (!store) throw new Error('no --event-store'); // checked before: storeOf
  return store;
}

const storeUrl = (store: StoreSpec) => (store.kind === 'local' ? 'memory' : redacted(store.url));

const ES_PROCESSORS: readonly ProcessorService[] = ['payments', 'inventory', 'notifications'];
const isProcessor = (service: string): service is ProcessorService => (ES_PROCESSORS as readonly string[]).includes(service);

/**
 * Event sourcing: the command handler (`orders`, POST /orders and GET /orders/:id?wait=
 * over HTTP), the projection (its query server: GET /customers/:id/orders) and the three
 * processors, each on its own connection to the log at --event-store — the embedded store
 * (`--service event-store`, `pbes://…`) or PostgreSQL (schema SERVE_SCHEMA). The processors
 * listen on nothing. Each is the component `run` starts, with the settings `run` uses.
 */
const EVENT_SOURCING: Servable = {
  services: ['orders', 'projection', ...ES_PROCESSORS, EVENT_STORE],
  peersOf: () => [],
  listens: (service) => !isProcessor(service),
  broker: false,
  store: (service) => (service === EVENT_STORE ? 'none' : 'required'),
  refuse: (option, pattern, service) => {
    if (option === '--broker') return [`--pattern ${pattern}`, `${pattern}'s services meet at the event store (--event-store), through no broker`];
    if (option === '--event-store') return STORE_IS_STORE;
    return [`--service ${service}`, `${pattern}'s ${service} listens on nothing: it follows the event store's log (--event-store)`];
  },
  component: ({ service, listen, store, seed }) => {
    if (service === EVENT_STORE) return storeServer(listen);
    const spec = givenStore(store);
    if (isProcessor(service)) {
      const init: ProcessorInit = { service, store: spec, world: new OrderGenerator(seededRandom(seed)).world(), settings: ES_DEFAULTS, seed };
      return { factory: startProcessor as ComponentFactory<never, ComponentApi>, init, where: () => `through ${storeUrl(spec)}` };
    }
    if (service === 'orders') {
      const init: CommandHandlerInit = { store: spec, settings: ES_DEFAULTS, seed, listen };
      return { factory: startCommandHandler as ComponentFactory<never, ComponentApi>, init, where: listening('http', listen) };
    }
    const init: ProjectionInit = { store: spec, settings: ES_DEFAULTS, listen };
    return { factory: startProjection as ComponentFactory<never, ComponentApi>, init, where: listening('http', listen) };
  },
};

/**
 * The orchestrated saga: the orchestrator (its gRPC OrderService: SubmitOrder, GetCustomerOrders)
 * calls the participants — gRPC's inventory, payments and notifications, served as gRPC's —
 * at its --peer's, and writes every decision to its saga log: --event-store, or without it
 * a store in its own memory (nobody else reads the log, but it goes with the process).
 */
const SAGA_ORCHESTRATION: Servable = {
  services: ['orchestrator', ...DOWNSTREAM, EVENT_STORE],
  peersOf: (service) => (service === 'orchestrator' ? DOWNSTREAM : []),
  listens: () => true,
  broker: false,
  store: (service) => (service === 'orchestrator' ? 'optional' : 'none'),
  refuse: (option, pattern, service) => {
    if (option === '--broker') return [`--pattern ${pattern}`, `${pattern}'s orchestrator calls the participants directly, through no broker`];
    if (service === EVENT_STORE) return STORE_IS_STORE;
    return [`--service ${service}`, `${pattern}'s ${service} keeps no log: the saga log is the orchestrator's`];
  },
  component: (request) => {
    const { service, listen, peers, store, seed, resilience } = request;
    if (service === EVENT_STORE) return storeServer(listen);
    if (service !== 'orchestrator') return GRPC.component(request);
    const log = givenStore(store);
    const init: OrchestratorInit = { store: log, participants: downstreamOf(peers), settings: GRPC_DEFAULTS, seed, resilience, listen };
    const at = listening('grpc', listen);
    const where = log.kind === 'local' ? "with the saga log in this process's memory" : `with the saga log at ${storeUrl(log)}`;
    return { factory: startOrchestrator as ComponentFactory<never, ComponentApi>, init, where: (addresses) => `${at(addresses)} ${where}` };
  },
};

/** The patterns `serve` runs, in the registry's order; the others are listed in the error with why (UNSERVABLE). */
export const SERVABLE: Readonly<Record<string, Servable>> = {
  rest: REST,
  grpc: GRPC,
  'grpc-stream': GRPC,
  queue: eventDriven(queueWorkflow, 'queue', 'queueWorkflow'),
  'event-sourcing': EVENT_SOURCING,
  'saga-choreography': eventDriven(choreographyWorkflow, 'saga-choreography', 'choreographyWorkflow'),
  'saga-orchestration': SAGA_ORCHESTRATION,
};

/** Why a pattern cannot be served. */
const UNSERVABLE: Readonly<Record<string, string>> = { direct: 'direct is one program whose modules call each other as functions: it has no services to serve apart' };

function peer(peers: Readonly<Record<string, Address>>, name: string): Address {
  const address = peers[name];
  if (!address) throw new Error(`no --peer ${name}`); // checked before: parsePeers
  return address;
}

/**
 * `pattern-bench serve --pattern P --service S [--host H] [--port N] [--peer name=url]… [--broker URL] [--event-store URL]`:
 * one service of one pattern as its own OS process, until Ctrl-C or SIGTERM. The line
 * `serving <pattern> <service> on <url> … (pid N)` on stderr says where it listens
 * (`through <url>` for one that listens on nothing: the broker or store it connects to).
 */
export async function serveCommand(flags: ServeFlags, io: CliIo): Promise<number> {
  const [patternId, servable] = servableOf(flags.pattern);
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
  const at = { pattern: patternId, service, servable };
  checkListens(at, flags);
  const broker = brokerOf(at, flags);
  const store = storeOf(at, flags.eventStore);
  if (servable.broker) await probeBroker(broker); // unreachable: one line, exit 2 (an unreachable store is, as the component opens it)

  const served = servable.component({ service, listen: { host, port }, peers, broker, store, seed, resilience });
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

/** The servable pattern `--pattern` names: an unknown one, or one that cannot be served, is refused with the list of those that can. */
function servableOf(patternId: string | undefined): readonly [string, Servable] {
  const can = `a pattern serve can run: ${Object.keys(SERVABLE).join(', ')}`;
  if (patternId === undefined) throw new InvalidOptionError('--pattern', '', can);
  const servable = SERVABLE[patternId];
  if (servable) return [patternId, servable];
  if (!PATTERNS.some((p) => p.id === patternId)) throw new UnknownNameError('--pattern', patternId, PATTERNS.map((p) => p.id));
  const why = UNSERVABLE[patternId];
  throw new InvalidOptionError('--pattern', patternId, why ? `${can}; ${why}` : `${can} (not yet: ${PATTERNS.map((p) => p.id).filter((id) => !SERVABLE[id]).join(', ')})`);
}

/** The pattern and service a command names, for the checks of its other options. */
interface Target {
  readonly pattern: string;
  readonly service: string;
  readonly servable: Servable;
}

/** The one-line refusal of an option the service has no use for. */
function refused({ pattern, service, servable }: Target, option: Refusable): ConflictingOptionsError {
  const [pairedWith, why] = servable.refuse(option, pattern, service);
  return new ConflictingOptionsError([pairedWith, option], why);
}

/** --host and --port are for a service that listens; refused for one that listens on nothing. */
function checkListens(at: Target, flags: ServeFlags): void {
  if (at.servable.listens(at.service)) return;
  for (const option of ['host', 'port'] as const) if (flags[option] !== undefined) throw refused(at, `--${option}`);
}

/** `--broker` for a pattern whose services meet at a broker; refused for one that has none. */
function brokerOf(at: Target, flags: ServeFlags): string {
  if (!at.servable.broker) {
    if (flags.broker !== undefined) throw refused(at, '--broker');
    return '';
  }
  const broker = flags.broker;
  if (broker === undefined) throw new InvalidOptionError('--broker', '', `the broker ${at.pattern}'s services meet at: an amqp:// URL (RabbitMQ, or \`pattern-bench broker\`)`);
  if (!/^amqps?:\/\/[^\s]+$/.test(broker)) throw new InvalidOptionError('--broker', broker, 'an amqp:// URL');
  return broker;
}

const storeForm = (pattern: string) => `a pbes://host:port URL (\`pattern-bench serve --pattern ${pattern} --service ${EVENT_STORE}\`) or a postgres:// URL`;

/**
 * `--event-store` for a service that reads and appends to one: the embedded store server's
 * pbes:// URL, or PostgreSQL (schema SERVE_SCHEMA). The orchestrator may go without: then
 * (or with `memory`) its saga log is in its own memory. Refused for a service that keeps none.
 */
function storeOf(at: Target, given: string | undefined): StoreSpec | undefined {
  const takes = at.servable.store(at.service);
  if (takes === 'none') {
    if (given !== undefined) throw refused(at, '--event-store');
    return undefined;
  }
  const form = takes === 'optional' ? `"memory" (this process's own, the default) or ${storeForm(at.pattern)}` : storeForm(at.pattern);
  if (takes === 'optional' && (given === undefined || given === 'memory')) return { kind: 'local' };
  if (given === undefined) throw new InvalidOptionError('--event-store', '', `the event store ${at.pattern}'s ${at.service} reads and appends to: ${form}`);
  try {
    if (/^postgres(ql)?:/.test(given)) {
      parsePostgresUrl('--event-store', given);
      return { kind: 'postgres', url: given, schema: SERVE_SCHEMA, poolSize: POSTGRES_POOL_PER_COMPONENT };
    }
    parseEventStoreUrl(given);
    return { kind: 'memory', url: given };
  } catch {
    throw new InvalidOptionError('--event-store', given, form);
  }
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
