import type { Scenario } from './types.js';

export const baseline: Scenario = {
  id: 'baseline',
  title: 'Baseline',
  description: 'No faults: the steady-state cost of each pattern.',
  steps: [],
};
