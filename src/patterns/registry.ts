import { UnknownNameError } from '../errors.js';
import { directPattern } from './direct/index.js';
import { queuePattern } from './queue/index.js';
import { sagaChoreographyPattern } from './saga-choreography/index.js';
import type { Pattern } from './types.js';

/** Every pattern, in the order the tables show them. */
export const PATTERNS: readonly Pattern[] = [directPattern, queuePattern, sagaChoreographyPattern];

export function patternIds(): string[] {
  return PATTERNS.map((p) => p.id);
}

export function getPattern(id: string): Pattern {
  const pattern = PATTERNS.find((p) => p.id === id);
  if (!pattern) throw new UnknownNameError('--patterns', id, patternIds());
  return pattern;
}
