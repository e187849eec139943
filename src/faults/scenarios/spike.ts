import type { Scenario } from './types.js';

export const spike: Scenario = {
  id: 'spike',
  title: 'Load spike',
  description: 'Five times the load for the middle 20% of the run.',
  steps: [{ at: 0.4, until: 0.6, action: { kind: 'load', multiplier: 5 } }],
};
