import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  NoCapacityError,
  ConfigsDifferError,
  ConflictingOptionsError,
  InvalidOptionError,
  InvalidResultsFileError,
  OutputNotWritableError,
  ReadFailedError,
  ServiceUnreachableError,
  UnknownNameError,
  describeError,
} from '../src/errors.js';

describe('error catalogue', () => {
  it('pins every code, exit code and message', () => {
    const cases = [
      [new InvalidOptionError('--duration', '-1', 'a number of seconds > 0'), 'PB_ERR_INVALID_OPTION', 2, 'invalid value for --duration: "-1" (expected a number of seconds > 0)'],
      [new ConflictingOptionsError(['--rate', '--concurrency'], 'pick one'), 'PB_ERR_CONFLICTING_OPTIONS', 2, '--rate and --concurrency cannot be used together: pick one'],
      [new UnknownNameError('--patterns', 'soap', ['direct', 'rest']), 'PB_ERR_UNKNOWN_NAME', 2, 'unknown value for --patterns: "soap" (known: direct, rest)'],
      [new OutputNotWritableError('--out', '/x', 'it is not a folder'), 'PB_ERR_OUTPUT_NOT_WRITABLE', 2, 'cannot write to --out "/x": it is not a folder'],
      [new InvalidResultsFileError('r.json', 'not JSON'), 'PB_ERR_INVALID_RESULTS_FILE', 2, 'cannot read results file "r.json": not JSON'],
      [new ConfigsDifferError(['durationMs', 'load.kind']), 'PB_ERR_CONFIGS_DIFFER', 2, 'the two results were measured with different configs (durationMs, load.kind); pass --force to compare them anyway'],
      [new ServiceUnreachableError('--broker', 'amqp://h', 'ECONNREFUSED'), 'PB_ERR_SERVICE_UNREACHABLE', 2, 'cannot reach --broker "amqp://h": ECONNREFUSED'],
      [new ReadFailedError('c-7', 'HTTP_503', 'busy'), 'PB_ERR_READ_FAILED', 1, "reading customer c-7's orders failed (HTTP_503): busy"],
      [new AbortedError(), 'PB_ERR_ABORTED', 130, 'the run was aborted'],
      [new NoCapacityError(['rest: EADDRINUSE']), 'PB_ERR_NO_CAPACITY', 1, 'no pattern completed its capacity run, so there is no equal-load rate (rest: EADDRINUSE); give one with --rate'],
    ] as const;
    for (const [err, code, exitCode, message] of cases) {
      expect(err.code).toBe(code);
      expect(err.exitCode).toBe(exitCode);
      expect(err.message).toBe(message);
      expect(describeError(err)).toEqual({ code, message });
    }
  });

  it('describes foreign errors by their code or name', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(describeError(sys)).toEqual({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    expect(describeError(new TypeError('bad'))).toEqual({ code: 'TypeError', message: 'bad' });
    expect(describeError('oops')).toEqual({ code: 'PB_ERR_UNKNOWN', message: 'oops' });
  });
});
