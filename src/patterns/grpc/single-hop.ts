import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ComponentFactory } from '../../placement/component.js';
import { createServices } from '../../workflow/services.js';
import { directPorts, runOrderWorkflow } from '../../workflow/workflow.js';
import type { SingleHopInit } from '../rest/single-hop.js';
import type { OrderUpdate, PlaceOrderRequest } from './messages.js';
import { loadOrderProto } from './proto.js';
import { handle, serve, toOrder, toUpdate, type GrpcSettings } from './services.js';

/**
 * A transport benchmark's target (bench/transport.ts): OrderService alone, running the
 * workflow in-process, so one order is one PlaceOrder call.
 */
export const startGrpcSingleHop: ComponentFactory<SingleHopInit<GrpcSettings>, Record<never, never>> = async ({ world, settings }, { meter }) => {
  const proto = loadOrderProto();
  const services = createServices(world);
  const ports = directPorts(services);
  const served = await serve(settings, meter, (server) =>
    server.addService(proto.OrderService, {
      PlaceOrder: handle(async (req: PlaceOrderRequest): Promise<OrderUpdate> => toUpdate(await runOrderWorkflow(services.orders, ports, toOrder(req)))),
    } satisfies UntypedServiceImplementation),
  );
  return { addresses: { grpc: served.address }, stop: () => served.close() };
};
