/**
 * npm run bench:transport — is pattern-bench's client ever the bottleneck?
 *
 * One order = one call to an orders service that runs the workflow in-process (single
 * hop). The same REST server is driven by pattern-bench's load generator (undici) and by
 * autocannon (a separate process), with the same number of connections; a gRPC server by
 * pattern-bench. The services run where `--placement` says (default `shared`: one worker
 * thread, so they have a core of their own, as they do against autocannon's separate
 * process). Rounds alternate the three measurements; medians are printed, and the gRPC
 * single hop's throughput as a share of REST's (issue #17's goal: ≥ 0.5), measured in the
 * same rounds with the same connections, payload and placement; then the CPU of one call
 * by thread (client and generator, server, V8's helper threads), which a busy machine
 * moves far less than it moves throughput.
 *
 *   node dist/bench/transport.js [--connections 10] [--duration 3] [--rounds 5] [--placement same-thread|shared]
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { runLoad } from '../src/bench/loadgen.js';
import { addressOf, type ComponentModule } from '../src/placement/component.js';
import { currentThreadId, threadCpuMs } from '../src/placement/cpu.js';
import { PlacedSystem } from '../src/placement/system.js';
import { createGrpcClient, GRPC_DEFAULTS, type GrpcSettings } from '../src/patterns/grpc/index.js';
import { startGrpcSingleHop } from '../src/patterns/grpc/single-hop.js';
import { createRestClient, REST_DEFAULTS, type RestSettings } from '../src/patterns/rest/index.js';
import { startRestSingleHop, type SingleHopInit } from '../src/patterns/rest/single-hop.js';
import { DIRECT_NETWORK, type Address, type Placement } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';
import { OrderGenerator } from '../src/workflow/generator.js';
import type { OrderOutcome, OrderRequest } from '../src/workflow/types.js';

interface Options {
  connections: number;
  durationS: number;
  rounds: number;
  placement: Placement;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { connections: 10, durationS: 3, rounds: 5, placement: 'shared' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    const n = Number(value);
    const positive = Number.isFinite(n) && n > 0;
    if (flag === '--connections' && positive && Number.isInteger(n)) options.connections = n;
    else if (flag === '--duration' && positive) options.durationS = n;
    else if (flag === '--rounds' && positive && Number.isInteger(n)) options.rounds = n;
    else if (flag === '--placement' && (value === 'shared' || value === 'same-thread')) options.placement = value;
    else {
      console.error(`invalid option ${flag ?? ''} ${JSON.stringify(value)}`);
      process.exit(2);
    }
  }
  return options;
}

interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Share of the window the main thread's event loop (the load generator's) was busy; pattern-bench only. */
  readonly elu?: number;
  /** Where the CPU of one call went; pattern-bench only, null where threads' CPU is not known (Linux only). */
  readonly cpu?: CallCpu | null;
}

/**
 * CPU per call over the window, µs, by where it ran. A figure the machine's load barely
 * moves (CPU time, not throughput), so it shows what a call costs even on a busy machine.
 */
interface CallCpu {
  /** The main thread: the client and the load generator (and the server too under same-thread). */
  readonly client: number;
  /** The system's worker threads: the server. */
  readonly server: number;
  /** The rest of the process: V8's garbage-collector and compiler helper threads, libuv's pool. */
  readonly helpers: number;
}

/** Reads the main thread's and the system's threads' CPU when the window opens and closes. */
class CpuProbe {
  private readonly mainTid = currentThreadId();
  private opened: { main: number | null; server: number | null } | undefined;
  private closed: { main: number | null; server: number | null } | undefined;

  constructor(private readonly system: PlacedSystem) {}

  open(): void {
    this.opened = this.read();
  }

  close(): void {
    this.closed = this.read();
  }

  /** Per call, from the calls completed in the window and the process's CPU per call in it (µs). */
  perCall(calls: number, processPerCall: number | null): CallCpu | null {
    const [a, b] = [this.opened, this.closed];
    if (!a || !b || a.main === null || b.main === null || a.server === null || b.server === null || calls <= 0 || processPerCall === null) return null;
    const client = ((b.main - a.main) * 1000) / calls;
    const server = ((b.server - a.server) * 1000) / calls;
    return { client, server, helpers: Math.max(0, processPerCall - client - server) };
  }

  private read(): { main: number | null; server: number | null } {
    let server: number | null = 0;
    for (const { thread } of this.system.threads()) {
      if (thread.isMain) continue;
      const ms = threadCpuMs(thread.tid);
      server = ms === null || server === null ? null : server + ms;
    }
    return { main: threadCpuMs(this.mainTid), server };
  }
}

const WARMUP_MS = 2000;

async function measurePatternBench(
  placeOrder: (order: OrderRequest) => Promise<OrderOutcome>,
  generator: OrderGenerator,
  options: Options,
  system: PlacedSystem,
): Promise<Measured> {
  const probe = new CpuProbe(system);
  const load = await runLoad(
    { placeOrder },
    {
      shape: { kind: 'closed', concurrency: options.connections },
      warmupMs: WARMUP_MS,
      durationMs: options.durationS * 1000,
      nextOrder: () => generator.next(),
      windowProbe: probe,
    },
  );
  const cpu = probe.perCall(load.completedInWindow, load.cost.cpuMicrosPerOrder);
  return { rps: load.throughput.achieved, p50: load.latency.p50, p99: load.latency.p99, elu: load.cost.eventLoopUtilization, cpu };
}

interface AutocannonJson {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

async function measureAutocannon(address: Address, options: Options): Promise<Measured> {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  // `[<id>]` is replaced per request (-I): every request is a new order, as with our generator.
  const body = JSON.stringify({ orderId: 'ac-[<id>]', customerId: 'cust-0', items: [{ sku: 'sku-0', qty: 1 }], amountCents: 500 });
  const args = [
    bin,
    '-c', String(options.connections),
    '-d', String(options.durationS),
    '--warmup', '[', '-c', String(options.connections), '-d', String(WARMUP_MS / 1000), ']',
    '-m', 'POST',
    '-H', 'content-type=application/json',
    '-b', body,
    '-I',
    '--json',
    `http://${address.host}:${address.port}/orders`,
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`autocannon exited with ${code}: ${err}`))));
  });
  // With --warmup, autocannon prints one JSON document per line; the measurement is the last.
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(last) as AutocannonJson;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`autocannon saw ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

function summary(name: string, runs: readonly Measured[], unit = 'req/s'): string {
  const rps = runs.map((r) => Math.round(r.rps)).join(', ');
  const elus = runs.flatMap((r) => (r.elu === undefined ? [] : [r.elu]));
  const busy = elus.length > 0 ? `   main loop busy ${Math.round(median(elus) * 100)}%` : '';
  return `${name.padEnd(34)} ${Math.round(median(runs.map((r) => r.rps))).toLocaleString('en-US').padStart(8)} ${unit}   p50 ${median(runs.map((r) => r.p50)).toFixed(3)} ms   p99 ${median(runs.map((r) => r.p99)).toFixed(3)} ms${busy}   (rounds: ${rps})`;
}

/** The gRPC hop against the REST hop, both driven by pattern-bench: median throughput ratio and the per-round one. */
function grpcShare(grpc: readonly Measured[], rest: readonly Measured[]): string {
  const ratio = median(grpc.map((r) => r.rps)) / median(rest.map((r) => r.rps));
  const perRound = median(grpc.map((r, i) => r.rps / (rest[i]?.rps ?? Number.NaN)));
  const verdict = ratio >= GRPC_GOAL ? `meets the goal ≥ ${GRPC_GOAL}` : `short of the goal ≥ ${GRPC_GOAL}`;
  return `throughput ratio grpc / rest (pattern-bench): ${ratio.toFixed(2)} (median of per-round ratios ${perRound.toFixed(2)}): ${verdict}`;
}

/** Median CPU per call of each, by thread, and their ratio (or why there is none). */
function cpuLines(rest: readonly Measured[], grpc: readonly Measured[]): string {
  const of = (runs: readonly Measured[]): CallCpu | null => {
    const cpus = runs.flatMap((r) => (r.cpu ? [r.cpu] : []));
    if (cpus.length === 0) return null;
    return { client: median(cpus.map((c) => c.client)), server: median(cpus.map((c) => c.server)), helpers: median(cpus.map((c) => c.helpers)) };
  };
  const [r, g] = [of(rest), of(grpc)];
  if (!r || !g) return 'CPU per call: not known here (per-thread CPU is read from /proc, Linux only)';
  const total = (c: CallCpu) => c.client + c.server + c.helpers;
  const line = (name: string, c: CallCpu) =>
    `${name} client+generator ${c.client.toFixed(1)}   server ${c.server.toFixed(1)}   GC/helper threads ${c.helpers.toFixed(1)}   total ${total(c).toFixed(1)}`;
  return [
    'CPU per call, µs (medians of the rounds; by thread):',
    line('  rest ', r),
    line('  grpc ', g),
    `  grpc / rest: ${(total(g) / total(r)).toFixed(2)}× in all, busiest thread ${(Math.max(g.client, g.server) / Math.max(r.client, r.server)).toFixed(2)}×`,
  ].join('\n');
}

/** Issue #17: the gRPC single hop should carry at least half of REST's orders/s. */
const GRPC_GOAL = 0.5;

/** The whole workflow, worker thread vs same event loop, paired rounds in alternating order. */
async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const generator = new OrderGenerator(seededRandom(42));
  const world = generator.world();
  const restModule: ComponentModule<SingleHopInit<RestSettings>, Record<never, never>> = {
    url: new URL('../src/patterns/rest/single-hop.js', import.meta.url),
    exportName: 'startRestSingleHop',
    factory: startRestSingleHop,
  };
  const grpcModule: ComponentModule<SingleHopInit<GrpcSettings>, Record<never, never>> = {
    url: new URL('../src/patterns/grpc/single-hop.js', import.meta.url),
    exportName: 'startGrpcSingleHop',
    factory: startGrpcSingleHop,
  };
  const system = PlacedSystem.open({ placement: options.placement, network: DIRECT_NETWORK, random: seededRandom(7) });
  try {
    const restAddress = addressOf(await system.start('rest-single-hop', restModule, { world, settings: REST_DEFAULTS }), 'http');
    const grpcAddress = addressOf(await system.start('grpc-single-hop', grpcModule, { world, settings: GRPC_DEFAULTS }), 'grpc');
    const rest = createRestClient(restAddress);
    const grpc = createGrpcClient(grpcAddress);

    console.error(
      `transport bench: ${options.connections} connections, ${options.durationS} s per measurement after ${WARMUP_MS / 1000} s warm-up, ` +
        `${options.rounds} rounds, placement ${options.placement}`,
    );
    const pbRest: Measured[] = [];
    const acRest: Measured[] = [];
    const pbGrpc: Measured[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      pbRest.push(await measurePatternBench(rest.placeOrder, generator, options, system));
      acRest.push(await measureAutocannon(restAddress, options));
      pbGrpc.push(await measurePatternBench(grpc.placeOrder, generator, options, system));
      console.error(
        `round ${round}: pattern-bench rest ${Math.round(pbRest.at(-1)?.rps ?? 0)}/s, autocannon rest ${Math.round(acRest.at(-1)?.rps ?? 0)}/s, pattern-bench grpc ${Math.round(pbGrpc.at(-1)?.rps ?? 0)}/s`,
      );
    }
    await rest.close();
    grpc.close();

    const ratio = median(pbRest.map((r) => r.rps)) / median(acRest.map((r) => r.rps));
    // Each round measures the two back to back: the per-round ratio cancels slow drifts in machine load.
    const perRound = median(pbRest.map((r, i) => r.rps / (acRest[i]?.rps ?? Number.NaN)));
    console.log(`single-hop order call, ${options.connections} connections, placement ${options.placement}; medians of ${options.rounds} rounds`);
    console.log(summary('rest  pattern-bench (undici)', pbRest));
    console.log(summary('rest  autocannon (own process)', acRest));
    console.log(summary('grpc  pattern-bench (grpc-js)', pbGrpc));
    console.log('(autocannon reports latency in whole milliseconds)');
    console.log(
      `throughput ratio pattern-bench / autocannon (rest): ${ratio.toFixed(2)} (median of per-round ratios ${perRound.toFixed(2)}) ` +
        (ratio >= 0.9 ? '(≥ 0.9: the client is not the bottleneck)' : '(< 0.9: the client may be the bottleneck)'),
    );
    console.log(grpcShare(pbGrpc, pbRest));
    console.log(cpuLines(pbRest, pbGrpc));
  } finally {
    await system.stop();
  }
}

await main();
