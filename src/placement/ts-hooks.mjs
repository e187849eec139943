// Module hooks that let a worker thread load the TypeScript sources directly, when the
// code runs from src/ (vitest) instead of dist/. Never used by the built package.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// Type stripping: rolldown's (oxc, native, comes with vitest) loads in a fraction of the
// time `typescript` takes; typescript is the fallback.
const strip = await import('rolldown/experimental').then(
  ({ transformSync }) => (fileName, source) => {
    const result = transformSync(fileName, source, { lang: 'ts', sourcemap: false });
    if (result.errors.length > 0) throw new Error(`${fileName}: ${result.errors.map((e) => e.message).join('; ')}`);
    return result.code;
  },
  async () => {
    const { default: ts } = await import('typescript');
    return (fileName, source) =>
      ts.transpileModule(source, {
        fileName,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
  },
);

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    // NodeNext sources import './x.js' for './x.ts'.
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  return { format: 'module', source: strip(fileName, source), shortCircuit: true };
}
