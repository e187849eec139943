import type { Scenario } from './types.js';

export const outage: Scenario = {
  id: 'outage',
  title: 'Payments outage',
  description: 'Payments is down from 20% to 40% of the run (connections refused and closed), then back: the rest of the window shows the recovery.',
  steps: [{ at: 0.2, until: 0.4, action: { kind: 'fault', hops: '*:payments', fault: { type: 'down' } } }],
};
