import { startBroker } from './server.js';

/**
 * `pattern-bench broker [--port 5672]`: runs the embedded broker until `close()`.
 * Argument parsing stays in the CLI; `log` receives one line per event.
 */
export async function runBrokerCommand(
  opts: { port: number; host?: string },
  log: (line: string) => void,
): Promise<{ close(): Promise<void>; port: number }> {
  const broker = await startBroker({ port: opts.port, host: opts.host ?? '127.0.0.1', log });
  log(`${broker.product} ${broker.version} listening on ${broker.url}`);
  return {
    port: broker.port,
    close: async () => {
      await broker.stop();
      log('broker stopped');
    },
  };
}
