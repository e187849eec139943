/**
 * npm run bench:faults — what the fault proxy itself costs, with no fault active.
 *
 * A TCP echo server on 127.0.0.1; one client connection straight to it and one through a
 * FaultNetwork hop (one proxy). Request/response round trips of a small message are timed
 * on each, in alternating rounds within one run (which goes first alternates too), into
 * HdrHistograms; the difference of the percentiles is what one proxied hop adds to a
 * round trip. Then a bulk transfer to a sink, direct and proxied, for throughput.
 *
 * Then the timed faults on the real clock: the unit tests check each fault's timing on a
 * fake clock, to the ms and on any machine; here the same faults run on this machine's
 * clock, and each figure is printed next to its configured value as measured / configured.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';
import { LatencyHistogram, type LatencySummary } from '../src/metrics/histogram.js';
import { medianWithCi } from '../src/bench/stats.js';
import { FaultNetwork } from '../src/faults/network.js';
import type { FaultSpec } from '../src/faults/toxics/registry.js';
import type { Address } from '../src/patterns/types.js';
import { seededRandom } from '../src/random.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const TRIPS = Number(process.env.TRIPS ?? 5000);
const MESSAGE_BYTES = 64;
const BULK_BYTES = Number(process.env.BULK_MB ?? 128) * 1024 * 1024;
const BULK_ROUNDS = Number(process.env.BULK_ROUNDS ?? 5);
const TIMED_ROUNDS = Number(process.env.TIMED_ROUNDS ?? 7);

async function listen(onSocket: (s: Socket) => void): Promise<{ address: Address; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('error', () => {}); // a reset_peer fault resets the server end too
    s.once('close', () => sockets.delete(s));
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  return {
    address,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function dial(address: Address): Promise<Socket> {
  const s = connect({ ...address, noDelay: true });
  await once(s, 'connect');
  return s;
}

/** `trips` sequential round trips of MESSAGE_BYTES on `socket`, each recorded into every histogram of `hs`. */
function roundTrips(socket: Socket, trips: number, hs: readonly LatencyHistogram[]): Promise<void> {
  const message = Buffer.alloc(MESSAGE_BYTES, 1);
  return new Promise((resolve) => {
    let left = trips;
    let have = 0;
    let start = 0;
    const send = () => {
      have = 0;
      start = performance.now();
      socket.write(message);
    };
    const onData = (chunk: Buffer) => {
      have += chunk.length;
      if (have < MESSAGE_BYTES) return;
      const ms = performance.now() - start;
      for (const h of hs) h.recordMs(ms);
      if (--left === 0) {
        socket.off('data', onData);
        resolve();
      } else send();
    };
    socket.on('data', onData);
    send();
  });
}

/** Send `bytes` to the sink at `address`; resolves to MB/s once the sink has counted them all. */
async function bulk(address: Address, bytes: number): Promise<number> {
  const s = await dial(address);
  const chunk = Buffer.alloc(64 * 1024, 2);
  const start = performance.now();
  const acked = once(s, 'data');
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!s.write(chunk)) await once(s, 'drain');
  }
  await acked;
  const seconds = (performance.now() - start) / 1000;
  s.destroy();
  return bytes / 1024 / 1024 / seconds;
}

// Client, proxy and servers share this one event loop, as in a run; a busy machine shows in the tails.
const loadAtStart = loadavg()[0] ?? 0;
const echo = await listen((s) => s.pipe(s));
const sink = await listen((s) => {
  let n = 0;
  s.on('data', (c: Buffer) => {
    n += c.length;
    if (n >= BULK_BYTES) s.write('k');
  });
});
const network = new FaultNetwork(seededRandom(1));
const echoHop = await network.route('bench:echo', echo.address);
const sinkHop = await network.route('bench:sink', sink.address);

const direct = await dial(echo.address);
const proxied = await dial(echoHop);
await roundTrips(direct, 2000, []);
await roundTrips(proxied, 2000, []);

const all = { direct: new LatencyHistogram(), proxied: new LatencyHistogram() };
const p50Diffs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const d = new LatencyHistogram();
  const p = new LatencyHistogram();
  // Alternate which goes first so that drift on a noisy machine hits both alike.
  const order: [Socket, LatencyHistogram[]][] = round % 2 === 0
    ? [[direct, [d, all.direct]], [proxied, [p, all.proxied]]]
    : [[proxied, [p, all.proxied]], [direct, [d, all.direct]]];
  for (const [socket, hs] of order) await roundTrips(socket, TRIPS, hs);
  const ds = d.summary();
  const ps = p.summary();
  p50Diffs.push((ps.p50 - ds.p50) * 1000);
  process.stderr.write(`round ${round + 1}/${ROUNDS}: p50 direct ${us(ds.p50)} µs, proxied ${us(ps.p50)} µs\n`);
}
direct.destroy();
proxied.destroy();

const bulkDirect: number[] = [];
const bulkProxied: number[] = [];
for (let round = 0; round < BULK_ROUNDS; round++) {
  if (round % 2 === 0) {
    bulkDirect.push(await bulk(sink.address, BULK_BYTES));
    bulkProxied.push(await bulk(sinkHop, BULK_BYTES));
  } else {
    bulkProxied.push(await bulk(sinkHop, BULK_BYTES));
    bulkDirect.push(await bulk(sink.address, BULK_BYTES));
  }
  process.stderr.write(`bulk round ${round + 1}/${BULK_ROUNDS}: direct ${Math.round(bulkDirect[round] ?? 0)} MB/s, proxied ${Math.round(bulkProxied[round] ?? 0)} MB/s\n`);
}
// Timed faults (real clock). Each round adds the fault, measures once and removes it.
const sender = await listen((s) => s.end(Buffer.alloc(100_000, 7)));
const counter = await listen((s) => {
  let n = 0;
  s.on('data', (c: Buffer) => {
    n += c.length;
    if (n >= 50_000) s.end('k');
  });
});
const timedEcho = await network.route('bench:timed-echo', echo.address);
const timedSender = await network.route('bench:timed-sender', sender.address);
const timedCounter = await network.route('bench:timed-counter', counter.address);

/** Resolves once `socket` has read `bytes` bytes (counted from now). */
function received(socket: Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let have = 0;
    const onData = (chunk: Buffer) => {
      have += chunk.length;
      if (have < bytes) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
  });
}

/** Ms from now until what `start` begins has settled. */
async function msUntil(start: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await start();
  return performance.now() - t0;
}

/** `run` with `spec` active on `hop`; the fault is removed afterwards. */
async function withFault<T>(hop: string, spec: FaultSpec, run: () => Promise<T>): Promise<T> {
  const name = network.addFault(hop, spec);
  try {
    return await run();
  } finally {
    network.removeFault(hop, name);
  }
}

/** One 5 B round trip on a fresh connection through bench:timed-echo, ms. */
async function ping(): Promise<number> {
  const s = await dial(timedEcho);
  const ms = await msUntil(() => {
    const back = received(s, 5);
    s.write('ping!');
    return back;
  });
  s.destroy();
  return ms;
}

/** Ms from dialling `address` until a fault has closed or reset the connection. */
async function msToClose(address: Address): Promise<number> {
  return msUntil(() => {
    const s = connect({ ...address, noDelay: true });
    s.on('error', () => {}); // ECONNRESET is the fault working (events.once would reject on it)
    s.resume();
    return new Promise((resolve) => s.once('close', resolve));
  });
}

const timed: { name: string; configuredMs: number; measuredMs: number[] }[] = [];
async function timedFault(name: string, configuredMs: number, round: () => Promise<number>): Promise<void> {
  const measuredMs: number[] = [];
  for (let i = 0; i < TIMED_ROUNDS; i++) measuredMs.push(await round());
  timed.push({ name, configuredMs, measuredMs });
  process.stderr.write(`timed fault ${timed.length}/8: ${name}\n`);
}

await timedFault('latency 100 ms downstream: round trip', 100, () => withFault('bench:timed-echo', { type: 'latency', latencyMs: 100 }, ping));
await timedFault('latency 100 ± 20 ms upstream: round trip', 100, () =>
  withFault('bench:timed-echo', { type: 'latency', latencyMs: 100, jitterMs: 20, direction: 'upstream' }, ping),
);
await timedFault('latency removed: held bytes reach the client', 0, async () => {
  const s = await dial(timedEcho);
  const name = network.addFault('bench:timed-echo', { type: 'latency', latencyMs: 60_000 });
  const back = received(s, 5);
  s.write('held!');
  await sleep(20); // the echo is back, held by the fault
  const ms = await msUntil(() => {
    network.removeFault('bench:timed-echo', name);
    return back;
  });
  s.destroy();
  return ms;
});
await timedFault('bandwidth 200 KB/s: 100 KB downstream', 500, () =>
  withFault('bench:timed-sender', { type: 'bandwidth', rateKBps: 200 }, () =>
    msUntil(async () => {
      const s = await dial(timedSender);
      await received(s, 100_000);
      s.destroy();
    }),
  ),
);
await timedFault('bandwidth 100 KB/s: 50 KB upstream', 500, () =>
  withFault('bench:timed-counter', { type: 'bandwidth', rateKBps: 100, direction: 'upstream' }, async () => {
    const s = await dial(timedCounter);
    const ms = await msUntil(() => {
      const acked = received(s, 1);
      s.write(Buffer.alloc(50_000, 1));
      return acked;
    });
    s.destroy();
    return ms;
  }),
);
await timedFault('timeout 200 ms: connection closed', 200, () => withFault('bench:timed-echo', { type: 'timeout', timeoutMs: 200 }, () => msToClose(timedEcho)));
await timedFault('reset_peer after 100 ms', 100, () => withFault('bench:timed-echo', { type: 'reset_peer', timeoutMs: 100 }, () => msToClose(timedEcho)));
await timedFault('reset_peer at once', 0, () => withFault('bench:timed-echo', { type: 'reset_peer' }, () => msToClose(timedEcho)));

const hopStats = network.stats();
await network.close();
await echo.close();
await sink.close();
await sender.close();
await counter.close();

function us(ms: number): string {
  return (ms * 1000).toFixed(0);
}

const d = all.direct.summary();
const p = all.proxied.summary();
const row = (name: string, s: LatencySummary) => [name, us(s.p50), us(s.p90), us(s.p99), us(s.p999), us(s.mean), s.count.toLocaleString('en-US')];
const table = new Table({ head: [`${MESSAGE_BYTES} B round trip`, 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'mean µs', 'trips'], colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right'] });
table.push(row('direct', d), row('through the proxy (1 hop)', p), ['added by the proxy', us(p.p50 - d.p50), us(p.p90 - d.p90), us(p.p99 - d.p99), us(p.p999 - d.p999), us(p.mean - d.mean), '']);
console.log(table.toString());
const diff = medianWithCi(p50Diffs);
if (diff) {
  console.log(`p50 added per hop, median of ${ROUNDS} paired rounds: ${diff.median.toFixed(0)} µs (range ${diff.low.toFixed(0)}–${diff.high.toFixed(0)} µs); target < 100 µs: ${diff.median < 100 ? 'met' : 'NOT met'}`);
}

const bd = medianWithCi(bulkDirect);
const bp = medianWithCi(bulkProxied);
if (bd && bp) {
  const bulkTable = new Table({ head: [`bulk ${BULK_BYTES / 1024 / 1024} MB`, 'MB/s (median)', 'range'], colAligns: ['left', 'right', 'right'] });
  bulkTable.push(['direct', bd.median.toFixed(0), `${bd.low.toFixed(0)}–${bd.high.toFixed(0)}`]);
  bulkTable.push(['through the proxy (1 hop)', bp.median.toFixed(0), `${bp.low.toFixed(0)}–${bp.high.toFixed(0)}`]);
  console.log(bulkTable.toString());
  console.log(`proxied / direct throughput: ${(bp.median / bd.median).toFixed(2)}`);
}
const timedTable = new Table({
  head: ['timed fault (real clock)', 'configured ms', 'measured ms (median)', 'range', 'measured / configured'],
  colAligns: ['left', 'right', 'right', 'right', 'right'],
});
for (const t of timed) {
  const m = medianWithCi(t.measuredMs);
  if (!m) continue;
  // A fault configured to 0 ms has no ratio: its figure is the ms it took.
  const ratio = t.configuredMs > 0 ? (m.median / t.configuredMs).toFixed(2) : '—';
  timedTable.push([t.name, String(t.configuredMs), m.median.toFixed(1), `${m.low.toFixed(1)}–${m.high.toFixed(1)}`, ratio]);
}
console.log(timedTable.toString());
console.log(`timed faults: ${TIMED_ROUNDS} rounds each, on this machine's clock; the unit tests check the same timings on a fake clock`);
console.log(`machine: ${availableParallelism()} CPUs, load average ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end (1 min)`);
const echoStats = hopStats.find((s) => s.hop === 'bench:echo');
if (echoStats) console.log(`proxy counted on bench:echo: ${echoStats.connections} connection(s), ${echoStats.bytesUpstream.toLocaleString('en-US')} B up, ${echoStats.bytesDownstream.toLocaleString('en-US')} B down`);
