import { UnknownNameError } from '../errors.js';
import { directPattern } from './direct/index.js';
import { eventSourcingPattern } from './event-sourcing/index.js';
import { grpcPattern, grpcStreamPattern } from './grpc/index.js';
import { queuePattern } from './queue/index.js';
import { restPattern } from './rest/index.js';
import { sagaChoreographyPattern } from './saga-choreography/index.js';
import { sagaOrchestrationPattern } from './saga-orchestration/index.js';
import type { Pattern } from './types.js';

/** Every known pattern, in the order the tables show them; `--patterns` accepts any of them. */
export const PATTERNS: readonly Pattern[] = [directPattern, restPattern, grpcPattern, grpcStreamPattern, queuePattern, eventSourcingPattern, sagaChoreographyPattern, sagaOrchestrationPattern];

/** Patterns run when --patterns is not given: every known one but those that are opt-in (`Pattern.optIn` says why). */
export const DEFAULT_PATTERNS: readonly string[] = PATTERNS.filter((p) => p.optIn === undefined).map((p) => p.id);

export function patternIds(): string[] {
  return PATTERNS.map((p) => p.id);
}

export function getPattern(id: string): Pattern {
  const pattern = PATTERNS.find((p) => p.id === id);
  if (!pattern) throw new UnknownNameError('--patterns', id, patternIds());
  return pattern;
}
