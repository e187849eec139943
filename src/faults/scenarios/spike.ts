import type { Scenario } from './types.js';

export const spike: Scenario = {
  id: 'spike',
  title: 'Load spike',
  description: 'Five times the load from 30% to 50% of the run, then back.',
  steps: [{ at: 0.3, until: 0.5, action: { kind: 'load', multiplier: 5 } }],
};
