import { createServices, snapshotServices } from '../../workflow/services.js';
import { directPorts, runOrderWorkflow } from '../../workflow/workflow.js';
import type { Pattern, RunningPattern } from '../types.js';

/** In-process orchestration over plain function calls: the ceiling with no transport. */
export const directPattern: Pattern = {
  id: 'direct',
  title: 'Direct call',
  summary: 'In-process function calls; the no-transport ceiling every other pattern is measured against.',
  tradeOffs: {
    pros: ['No network, no serialisation: the fastest and simplest possible', 'One stack trace for the whole order'],
    cons: ['Services cannot be deployed, scaled or fail independently', 'One process is one failure domain'],
    whenToUse: 'A modular monolith: when the services share a team, a release cycle and a database.',
  },
  async start({ world }): Promise<RunningPattern> {
    const services = createServices(world);
    const ports = directPorts(services);
    return {
      transport: { protocol: 'in-process', encoding: 'none', broker: null, placement: 'same event loop as the load generator' },
      placeOrder: (order) => runOrderWorkflow(services.orders, ports, order),
      snapshot: async () => snapshotServices(services),
      stop: async () => {},
    };
  },
};
