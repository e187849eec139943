import { readFileSync } from 'node:fs';
import { InvalidResultsFileError } from '../errors.js';
import type { ResultsDocument } from '../bench/results.js';

/** Where the CLI writes: stdout for results, stderr for progress and errors. Tests swap these. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress is redrawn in place). */
  readonly interactive: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

/** The exit codes, as docs/measurement.md lists them. */
export const EXIT = { ok: 0, errored: 1, badInput: 2, thresholdFailed: 3, interrupted: 130 } as const;

/** Read and check a results document written by `run` or `sweep`. */
export function readResults(file: string): ResultsDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidResultsFileError(file, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InvalidResultsFileError(file, 'not JSON');
  }
  const candidate = doc as Partial<ResultsDocument> | null;
  if (!candidate || typeof candidate !== 'object' || candidate.schemaVersion !== 1 || !Array.isArray(candidate.runs)) {
    throw new InvalidResultsFileError(file, 'not a pattern-bench results document (schemaVersion 1)');
  }
  return candidate as ResultsDocument;
}

/**
 * Run `work` with Ctrl-C wired to an AbortSignal: the first interrupt asks the work to
 * finish what it is doing and write what it has; a second quits at once.
 */
export async function interruptible<T>(io: CliIo, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    io.err(`\ninterrupted: ${what} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
