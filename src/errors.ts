/**
 * The error catalogue. Every failure pattern-bench reports on purpose is one of these
 * classes, each with a stable `code`; messages name the option and the bad value.
 * `exitCode` is what the CLI exits with: 2 for bad input, 1 for a failed run.
 */
export class PatternBenchError extends Error {
  readonly code: string = 'PB_ERR';
  readonly exitCode: number = 1;
}

/** An option's value is malformed or out of range. */
export class InvalidOptionError extends PatternBenchError {
  override readonly code = 'PB_ERR_INVALID_OPTION';
  override readonly exitCode = 2;
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`invalid value for ${option}: ${JSON.stringify(value)} (expected ${expected})`);
    this.name = 'InvalidOptionError';
  }
}

/** Two options were given that cannot be used together. */
export class ConflictingOptionsError extends PatternBenchError {
  override readonly code = 'PB_ERR_CONFLICTING_OPTIONS';
  override readonly exitCode = 2;
  constructor(
    readonly options: readonly [string, string],
    detail: string,
  ) {
    super(`${options[0]} and ${options[1]} cannot be used together: ${detail}`);
    this.name = 'ConflictingOptionsError';
  }
}

/** A name (pattern, scenario, format…) is not one that exists. */
export class UnknownNameError extends PatternBenchError {
  override readonly code = 'PB_ERR_UNKNOWN_NAME';
  override readonly exitCode = 2;
  constructor(
    readonly option: string,
    readonly value: string,
    readonly known: readonly string[],
  ) {
    super(`unknown value for ${option}: ${JSON.stringify(value)} (known: ${known.join(', ')})`);
    this.name = 'UnknownNameError';
  }
}

/** The output directory cannot be written. */
export class OutputNotWritableError extends PatternBenchError {
  override readonly code = 'PB_ERR_OUTPUT_NOT_WRITABLE';
  override readonly exitCode = 2;
  constructor(
    readonly option: string,
    readonly path: string,
    reason: string,
  ) {
    super(`cannot write to ${option} ${JSON.stringify(path)}: ${reason}`);
    this.name = 'OutputNotWritableError';
  }
}

/** A results file given to `report` or `compare` cannot be read or is not a results document. */
export class InvalidResultsFileError extends PatternBenchError {
  override readonly code = 'PB_ERR_INVALID_RESULTS_FILE';
  override readonly exitCode = 2;
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot read results file ${JSON.stringify(path)}: ${reason}`);
    this.name = 'InvalidResultsFileError';
  }
}

/**
 * `compare` was given two results measured under configs that change what is measured.
 * The message's first line names the keys; `differences`, the lines after it, say what
 * differs, old → new (the CLI prints them all on stderr).
 */
export class ConfigsDifferError extends PatternBenchError {
  override readonly code = 'PB_ERR_CONFIGS_DIFFER';
  override readonly exitCode = 2;
  constructor(
    readonly keys: readonly string[],
    readonly differences: readonly string[] = [],
  ) {
    super([`the two results were measured with different configs (${keys.join(', ')}); pass --force to compare them anyway`, ...differences].join('\n'));
    this.name = 'ConfigsDifferError';
  }
}

/** A service the run was told to use (broker, database) cannot be reached. */
export class ServiceUnreachableError extends PatternBenchError {
  override readonly code = 'PB_ERR_SERVICE_UNREACHABLE';
  override readonly exitCode = 2;
  constructor(
    readonly option: string,
    readonly value: string,
    reason: string,
  ) {
    super(`cannot reach ${option} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'ServiceUnreachableError';
  }
}

/** A placed order did not reach a terminal state in time (a transport or service failure). */
export class OrderFailedError extends PatternBenchError {
  override readonly code = 'PB_ERR_ORDER_FAILED';
  constructor(
    readonly orderId: string,
    readonly kind: string,
    message: string,
  ) {
    super(`order ${orderId} failed (${kind}): ${message}`);
    this.name = 'OrderFailedError';
  }
}

/** A read of the read side (a customer's orders) was refused: `kind` names how (e.g. `HTTP_503`). */
export class ReadFailedError extends PatternBenchError {
  override readonly code = 'PB_ERR_READ_FAILED';
  constructor(
    readonly customerId: string,
    readonly kind: string,
    message: string,
  ) {
    super(`reading customer ${customerId}'s orders failed (${kind}): ${message}`);
    this.name = 'ReadFailedError';
  }
}

/** The run was aborted (Ctrl-C or an AbortSignal). */
export class AbortedError extends PatternBenchError {
  override readonly code = 'PB_ERR_ABORTED';
  override readonly exitCode = 130;
  constructor() {
    super('the run was aborted');
    this.name = 'AbortedError';
  }
}

/** Equal load needs a capacity to take its share of, and no selected pattern completed its capacity run. */
export class NoCapacityError extends PatternBenchError {
  override readonly code = 'PB_ERR_NO_CAPACITY';
  override readonly exitCode = 1;
  constructor(readonly failures: readonly string[]) {
    super(`no pattern completed its capacity run, so there is no equal-load rate (${failures.join('; ')}); give one with --rate`);
    this.name = 'NoCapacityError';
  }
}

/** Code and message of any thrown value, for an errored result. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof PatternBenchError) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : err.name, message: err.message };
  }
  return { code: 'PB_ERR_UNKNOWN', message: String(err) };
}
