/**
 * The `pattern-bench serve` commands of one of docs/compose*.yaml, as a test runs them on
 * this machine: the argv after `serve`, with 127.0.0.1 for every container name (and for
 * `--host 0.0.0.0`), and the test's own PostgreSQL or broker for the compose file's one.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

interface ComposeFile {
  services: Record<string, { command?: string; image?: string }>;
}

export interface ComposeService {
  readonly name: string;
  /** The arguments after `node dist/src/cli.js serve`. */
  readonly args: string[];
}

const SERVE = ['node', 'dist/src/cli.js', 'serve'];

/** The file's services that run `serve` (in file order), and the names of the others (the engines: postgres, rabbitmq). */
export function composeServices(path: string, urls: Readonly<Record<string, string>>): { serves: ComposeService[]; engines: string[] } {
  const file = load(readFileSync(path, 'utf8')) as ComposeFile;
  const names = Object.keys(file.services);
  const serves: ComposeService[] = [];
  const engines: string[] = [];
  for (const [name, service] of Object.entries(file.services)) {
    const argv = service.command?.trim().split(/\s+/) ?? [];
    if (argv.slice(0, 3).join(' ') !== SERVE.join(' ')) {
      engines.push(name);
      continue;
    }
    serves.push({ name, args: argv.slice(3).map((arg) => localised(arg, names, urls)) });
  }
  return { serves, engines };
}

/** One argument with the engines' URLs replaced by `urls` (keyed by the compose file's URL) and container names by 127.0.0.1. */
function localised(arg: string, names: readonly string[], urls: Readonly<Record<string, string>>): string {
  if (urls[arg] !== undefined) return urls[arg];
  if (arg === '0.0.0.0') return '127.0.0.1';
  return names.reduce((a, name) => a.replace(`//${name}:`, '//127.0.0.1:'), arg);
}
