import type { Scenario } from './types.js';

export const slowDownstream: Scenario = {
  id: 'slow-downstream',
  title: 'Slow downstream',
  description: 'From 20% of the run on, payments answers 50 ms ± 10 ms later (the first 20% is the comparison).',
  steps: [{ at: 0.2, action: { kind: 'fault', hops: '*:payments', fault: { type: 'latency', direction: 'downstream', latencyMs: 50, jitterMs: 10 } } }],
};
