import { DEFAULTS, names } from '../bench/config.js';
import { DEFAULT_TRACE_OUTCOMES, TRACE_OUTCOMES, traceJourneys, type TraceOutcome } from '../bench/trace.js';
import { InvalidOptionError, UnknownNameError } from '../errors.js';
import { SCENARIOS } from '../faults/scenarios/registry.js';
import type { Scenario } from '../faults/scenarios/types.js';
import { DEFAULT_PATTERNS, PATTERNS } from '../patterns/registry.js';
import { exportSpans, otlpEndpoint, type OtlpDelivery } from '../tracing/otlp.js';
import { renderJourneyJson, renderJourneyMermaid, renderJourneyText } from '../report/journey.js';
import { EXIT, type CliIo } from './io.js';

export interface TraceFlags {
  patterns?: string;
  outcome?: string;
  format?: string;
  seed?: string;
  scenario?: string;
  otlp?: string;
}

export const TRACE_FORMATS = ['text', 'mermaid', 'json'] as const;

/**
 * `pattern-bench trace`: one traced order of each kind asked for per pattern, its journey
 * printed on stdout. Every option is checked before anything starts. Exit 0, or 1 when an
 * order errored (its journey is printed all the same).
 */
export async function traceCommand(flags: TraceFlags, io: CliIo): Promise<number> {
  const ids = names('--patterns', flags.patterns, PATTERNS.map((p) => p.id), DEFAULT_PATTERNS);
  const outcomes: readonly TraceOutcome[] = flags.outcome === undefined ? DEFAULT_TRACE_OUTCOMES : [known('--outcome', flags.outcome, TRACE_OUTCOMES)];
  const format = known('--format', flags.format ?? 'text', TRACE_FORMATS);
  const seed = flags.seed === undefined ? DEFAULTS.seed : Number(flags.seed);
  if (flags.seed !== undefined && (!/^\d+$/.test(flags.seed) || seed > 2 ** 32 - 1)) throw new InvalidOptionError('--seed', flags.seed, 'an integer from 0 to 4294967295');

  const scenario = flags.scenario === undefined ? undefined : scenarioNamed(flags.scenario);
  const otlp = flags.otlp === undefined ? undefined : otlpEndpoint('--otlp', flags.otlp);

  const patterns = ids.map((id) => PATTERNS.find((p) => p.id === id)).filter((p) => p !== undefined);
  const under = scenario ? `, each order placed inside ${scenario.id}'s fault` : '';
  const traced = await traceJourneys({ patterns, outcomes, seed, ...(scenario ? { scenario } : {}), onPattern: (id) => io.err(`tracing ${id} (placement same-thread${under})\n`) });
  const journeys = traced.map((t) => t.journey);
  const render = format === 'mermaid' ? renderJourneyMermaid : format === 'json' ? renderJourneyJson : renderJourneyText;
  io.out(render(journeys));
  if (otlp) reportDelivery(await exportSpans(otlp, traced.flatMap((t) => t.records)), io);
  return journeys.some((j) => j.state === 'errored') ? EXIT.errored : EXIT.ok;
}

function scenarioNamed(id: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new UnknownNameError('--scenario', id, SCENARIOS.map((s) => s.id));
  return scenario;
}

/** One line on stderr: where the spans went, or a warning that they did not arrive (the command's output stands). */
export function reportDelivery(d: OtlpDelivery, io: CliIo): void {
  if (d.error === undefined) io.err(`otlp: ${d.exported} spans sent to ${d.url}\n`);
  else io.err(`warning: --otlp ${d.url}: ${d.failed} of ${d.exported + d.failed} spans not delivered (${d.error})\n`);
}

function known<T extends string>(option: string, value: string, list: readonly T[]): T {
  if (!(list as readonly string[]).includes(value)) throw new UnknownNameError(option, value, list);
  return value as T;
}
