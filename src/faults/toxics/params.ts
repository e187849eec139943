import { InvalidOptionError } from '../../errors.js';
import { DIRECTIONS, type Direction, type FaultCommon } from './types.js';

/** The common fields of a fault spec, validated, with their defaults filled in. */
export interface ResolvedCommon {
  readonly name: string;
  readonly direction: Direction;
  readonly probability: number;
}

export function resolveCommon(type: string, spec: FaultCommon): ResolvedCommon {
  const direction = spec.direction ?? 'downstream';
  if (!DIRECTIONS.includes(direction)) {
    throw new InvalidOptionError(`fault ${type}.direction`, direction, DIRECTIONS.join(' or '));
  }
  const probability = spec.probability ?? 1;
  if (!(Number.isFinite(probability) && probability >= 0 && probability <= 1)) {
    throw new InvalidOptionError(`fault ${type}.probability`, probability, 'a number from 0 to 1');
  }
  const name = spec.name ?? `${type}_${direction}`;
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError(`fault ${type}.name`, name, 'a non-empty string');
  }
  return { name, direction, probability };
}

/** `value` (default `fallback` when undefined) as a finite number >= `min`. */
export function numberAtLeast(type: string, field: string, value: number | undefined, min: number, fallback?: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(`fault ${type}.${field}`, v, `a number >= ${min}`);
  }
  return v;
}
