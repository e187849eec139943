import type { Scenario } from './types.js';

export const flaky: Scenario = {
  id: 'flaky',
  title: 'Flaky payments',
  description: 'All run long, every 2% of the window each connection to payments has a 5% chance of being reset.',
  steps: [
    {
      at: 0,
      repeatEvery: 0.02,
      action: { kind: 'fault', hops: '*:payments', fault: { type: 'reset_peer', probability: 0.05 } },
    },
  ],
};
