import { DEFAULTS, names } from '../bench/config.js';
import { DEFAULT_TRACE_OUTCOMES, TRACE_OUTCOMES, traceJourneys, type TraceOutcome } from '../bench/trace.js';
import { InvalidOptionError, UnknownNameError } from '../errors.js';
import { PATTERNS } from '../patterns/registry.js';
import { renderJourneyJson, renderJourneyMermaid, renderJourneyText } from '../report/journey.js';
import { EXIT, type CliIo } from './io.js';

export interface TraceFlags {
  patterns?: string;
  outcome?: string;
  format?: string;
  seed?: string;
}

export const TRACE_FORMATS = ['text', 'mermaid', 'json'] as const;

/**
 * `pattern-bench trace`: one traced order of each kind asked for per pattern, its journey
 * printed on stdout. Every option is checked before anything starts. Exit 0, or 1 when an
 * order errored (its journey is printed all the same).
 */
export async function traceCommand(flags: TraceFlags, io: CliIo): Promise<number> {
  const ids = names('--patterns', flags.patterns, PATTERNS.map((p) => p.id), PATTERNS.map((p) => p.id));
  const outcomes: readonly TraceOutcome[] = flags.outcome === undefined ? DEFAULT_TRACE_OUTCOMES : [known('--outcome', flags.outcome, TRACE_OUTCOMES)];
  const format = known('--format', flags.format ?? 'text', TRACE_FORMATS);
  const seed = flags.seed === undefined ? DEFAULTS.seed : Number(flags.seed);
  if (flags.seed !== undefined && (!/^\d+$/.test(flags.seed) || seed > 2 ** 32 - 1)) throw new InvalidOptionError('--seed', flags.seed, 'an integer from 0 to 4294967295');

  const patterns = ids.map((id) => PATTERNS.find((p) => p.id === id)).filter((p) => p !== undefined);
  const journeys = await traceJourneys({ patterns, outcomes, seed, onPattern: (id) => io.err(`tracing ${id} (placement same-thread)\n`) });
  const render = format === 'mermaid' ? renderJourneyMermaid : format === 'json' ? renderJourneyJson : renderJourneyText;
  io.out(render(journeys));
  return journeys.some((j) => j.state === 'errored') ? EXIT.errored : EXIT.ok;
}

function known<T extends string>(option: string, value: string, list: readonly T[]): T {
  if (!(list as readonly string[]).includes(value)) throw new UnknownNameError(option, value, list);
  return value as T;
}
