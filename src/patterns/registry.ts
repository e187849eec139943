import { UnknownNameError } from '../errors.js';
import { directPattern } from './direct/index.js';
import { eventSourcingPattern } from './event-sourcing/index.js';
import { grpcPattern } from './grpc/index.js';
import { queuePattern } from './queue/index.js';
import { restPattern } from './rest/index.js';
import { sagaChoreographyPattern } from './saga-choreography/index.js';
import { sagaOrchestrationPattern } from './saga-orchestration/index.js';
import type { Pattern } from './types.js';

/** Every pattern, in the order the tables show them. */
export const PATTERNS: readonly Pattern[] = [directPattern, restPattern, grpcPattern, queuePattern, eventSourcingPattern, sagaChoreographyPattern, sagaOrchestrationPattern];

export function patternIds(): string[] {
  return PATTERNS.map((p) => p.id);
}

export function getPattern(id: string): Pattern {
  const pattern = PATTERNS.find((p) => p.id === id);
  if (!pattern) throw new UnknownNameError('--patterns', id, patternIds());
  return pattern;
}
