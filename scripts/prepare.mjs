/**
 * npm's `prepare`: build dist/ unless it is newer than every source. npm runs `prepare` after
 * `npm install` / `npm ci`, and again when `npx pattern-bench` first links this folder into its
 * cache: without this check a new user's first `npx pattern-bench run` paid a second full
 * build on top of the run. `npm run build` (and `npm test`, which runs it) always builds.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['src', 'bench', 'proto', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time under `path`, ms (0 when it does not exist). */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stat.mtimeMs);
}

// `npm run build` writes dist/.built last, so it exists only after a build that finished.
const built = statSync('dist/.built', { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (built > Math.max(...SOURCES.map(newest))) {
  console.log('pattern-bench: dist/ is newer than its sources, not rebuilt (npm run build rebuilds it)');
} else {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exitCode = build.status ?? 1;
}
