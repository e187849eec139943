import type { ComponentFactory } from '../../placement/component.js';
import { createServices, type World } from '../../workflow/services.js';
import { directPorts, runOrderWorkflow } from '../../workflow/workflow.js';
import { readJson, sendJson } from './http.js';
import { serve, type RestSettings } from './services.js';
import { parseOrder } from './validate.js';

export interface SingleHopInit<S> {
  readonly world: World;
  readonly settings: S;
}

/**
 * A transport benchmark's target (bench/transport.ts): the orders service alone, running
 * the workflow in-process, so one order is one HTTP request and its response.
 */
export const startRestSingleHop: ComponentFactory<SingleHopInit<RestSettings>, Record<never, never>> = async ({ world, settings }, { meter }) => {
  const services = createServices(world);
  const ports = directPorts(services);
  const served = await serve(
    'orders',
    {
      '/orders': {
        POST: async (req, res) => {
          const order = parseOrder(await readJson(req, settings.maxBodyBytes));
          const replay = services.orders.get(order.orderId) !== undefined;
          sendJson(res, replay ? 200 : 201, await runOrderWorkflow(services.orders, ports, order));
        },
      },
    },
    meter,
  );
  return { addresses: { http: served.address }, stop: () => served.close() };
};
