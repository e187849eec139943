import type { Scenario } from './types.js';

export const crash: Scenario = {
  id: 'crash',
  title: 'Inventory crash',
  description: 'Inventory crashes mid-batch at 40% of the run and restarts; unfinished work is redone or lost.',
  steps: [{ at: 0.4, until: 0.5, action: { kind: 'crash', service: 'inventory' } }],
};
