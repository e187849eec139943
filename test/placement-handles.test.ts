import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const register = new URL('../src/placement/ts-register.mjs', import.meta.url).href;
const source = (path: string) => new URL(`../src/${path}`, import.meta.url).href;

// A child process starts a pattern, places orders, stops it, and must then exit on its own:
// any server, socket, pool, channel, stream, timer or worker left open would keep it alive.
const script = `
import { PATTERNS } from ${JSON.stringify(source('patterns/registry.ts'))};
import { OrderGenerator } from ${JSON.stringify(source('workflow/generator.ts'))};
import { seededRandom } from ${JSON.stringify(source('random.ts'))};
import { DIRECT_NETWORK } from ${JSON.stringify(source('patterns/types.ts'))};
const patterns = Object.fromEntries(PATTERNS.map((p) => [p.id, p]));
for (const arg of process.argv.slice(-1)[0].split(',')) {
  const [id, placement] = arg.split(':');
  const generator = new OrderGenerator(seededRandom(1));
  const running = await patterns[id].start({ world: generator.world(), random: seededRandom(2), options: { broker: 'embedded', eventStore: 'memory', placement }, network: DIRECT_NETWORK });
  await Promise.all(Array.from({ length: 20 }, () => running.placeOrder(generator.next())));
  await running.drain?.(5000);
  await running.snapshot();
  await running.stop();
}
// Closed handles leave the list once their close callbacks have run.
await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write(JSON.stringify(process.getActiveResourcesInfo()));
`;

function runChild(cases: string): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', register, '--input-type=module', '-e', script, cases], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut: signal === 'SIGKILL' });
    });
  });
}

const ALL = ['direct', 'rest', 'grpc', 'grpc-stream', 'queue', 'event-sourcing', 'saga-choreography', 'saga-orchestration'];

describe('stop() leaves no open handle', () => {
  it.each(['same-thread', 'shared', 'per-service'])('every pattern, %s: the process exits on its own', async (placement) => {
    const result = await runChild(ALL.map((id) => `${id}:${placement}`).join(','));
    expect(result.stderr).toBe('');
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    // Only the stdout pipe being written to, and the timer that waited, may remain.
    const left = (JSON.parse(result.stdout) as string[]).filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap' && r !== 'Timeout');
    expect(left).toEqual([]);
  }, 60_000);
});
