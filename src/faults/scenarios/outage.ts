import type { Scenario } from './types.js';

export const outage: Scenario = {
  id: 'outage',
  title: 'Payments outage',
  description: 'Payments is down for the middle 30% of the run (connections refused and closed), then back.',
  steps: [{ at: 0.35, until: 0.65, action: { kind: 'fault', hops: '*:payments', fault: { type: 'down' } } }],
};
