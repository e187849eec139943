import { UnknownNameError } from '../../errors.js';
import { baseline } from './baseline.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = [baseline];

/** Scenarios run when --scenarios is not given. */
export const DEFAULT_SCENARIOS: readonly string[] = ['baseline'];

export function getScenario(id: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new UnknownNameError('--scenarios', id, SCENARIOS.map((s) => s.id));
  return scenario;
}
