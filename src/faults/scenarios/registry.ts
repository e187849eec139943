import { UnknownNameError } from '../../errors.js';
import { baseline } from './baseline.js';
import { crash } from './crash.js';
import { flaky } from './flaky.js';
import { outage } from './outage.js';
import { slowDownstream } from './slow-downstream.js';
import { spike } from './spike.js';
import type { Scenario } from './types.js';

export const SCENARIOS: readonly Scenario[] = [baseline, slowDownstream, outage, flaky, crash, spike];

/** Scenarios run when --scenarios is not given. */
export const DEFAULT_SCENARIOS: readonly string[] = ['baseline', 'outage'];

export function getScenario(id: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new UnknownNameError('--scenarios', id, SCENARIOS.map((s) => s.id));
  return scenario;
}
