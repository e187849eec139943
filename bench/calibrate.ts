/**
 * What the machine itself does from one moment to the next, with no pattern-bench code in
 * the way: loopback TCP round trips per second, 10 connections, 1 s, client and echo server
 * on one thread and on two. A benchmark that repeats prints these beside its own figures,
 * so that a spread between repeats can be told apart from a spread in the machine.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const CONNECTIONS = 10;

async function pingPong(port: number, ms: number): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => new Promise<Socket>((resolve) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    })),
  );
  let n = 0;
  const until = performance.now() + ms;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.on('data', () => {
            n++;
            if (performance.now() < until) s.write('x');
            else resolve();
          });
          s.write('x');
        }),
    ),
  );
  for (const s of sockets) s.destroy();
  return n / (ms / 1000);
}

function echoServer() {
  return createServer({ noDelay: true }, (s) => s.on('data', (d: Buffer) => s.write(d)));
}

/** Round trips/s with the echo server on this thread. */
export async function loopbackSameThread(ms = 1000): Promise<number> {
  const server = echoServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await pingPong((server.address() as AddressInfo).port, ms);
  } finally {
    server.close();
  }
}

/** Round trips/s with the echo server on a worker thread. */
export async function loopbackCrossThread(ms = 1000): Promise<number> {
  const worker = new Worker(new URL(import.meta.url));
  try {
    const [port] = (await once(worker, 'message')) as [number];
    return await pingPong(port, ms);
  } finally {
    await worker.terminate();
  }
}

if (!isMainThread && parentPort) {
  const server = echoServer();
  const port = parentPort;
  server.listen(0, '127.0.0.1', () => port.postMessage((server.address() as AddressInfo).port));
}
