import type { Scenario } from './types.js';

export const flaky: Scenario = {
  id: 'flaky',
  title: 'Flaky payments',
  description:
    'From 20% of the run on, payments fails 5% of the calls it gets with a transient error, before doing anything (REST 503, gRPC UNAVAILABLE, a delivery handed back, a processor task that throws): the same share of calls in every pattern.',
  steps: [{ at: 0.2, action: { kind: 'errors', service: 'payments', share: 0.05 } }],
};
