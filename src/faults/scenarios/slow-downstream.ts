import type { Scenario } from './types.js';

export const slowDownstream: Scenario = {
  id: 'slow-downstream',
  title: 'Slow downstream',
  description: 'Payments answers 50 ms ± 10 ms later for the whole run.',
  steps: [{ at: 0, action: { kind: 'fault', hops: '*:payments', fault: { type: 'latency', direction: 'downstream', latencyMs: 50, jitterMs: 10 } } }],
};
