import type { BoundaryGate } from '../../faults/boundary.js';
import { byClone, type ByClone } from '../../placement/clone.js';
import type { ComponentApi, ComponentFactory } from '../../placement/component.js';
import { seededRandom } from '../../random.js';
import { RESILIENCE_POLICIES, withResilience, type Hop, type ResiliencePolicy } from '../../resilience/policies.js';
import { buffersOf, type PackedSnapshot } from '../../workflow/packed-snapshot.js';
import { createServices, packServices, snapshotServices, type SystemSnapshot, type World } from '../../workflow/services.js';
import type { OrderRecord } from '../../workflow/orders.js';
import type { OrderOutcome, OrderRequest } from '../../workflow/types.js';
import { directPorts, runOrderWorkflow, type WorkflowPorts } from '../../workflow/workflow.js';
import { errorKind } from '../rest/services.js';
import type { ServiceApi } from '../service-api.js';
import { ErrorRate, TransientServiceError } from '../transient.js';

export interface MonolithInit {
  readonly world: World;
  /** Deadline of one call to a service module, as REST's and gRPC's hop deadlines, ms. */
  readonly hopTimeoutMs: number;
  readonly resilience: ResiliencePolicy['name'];
  readonly seed: number;
}

export type Module = 'inventory' | 'payments' | 'notifications';
export const MODULES: readonly Module[] = ['inventory', 'payments', 'notifications'];

export interface MonolithApi extends ServiceApi, ComponentApi {
  placeOrder(order: OrderRequest): Promise<OrderOutcome>;
  /** The read side: the orders module's list of a customer's orders, oldest first. */
  customerOrders(customerId: string): OrderRecord[];
  /** The flaky scenario: `module` fails `share` of its calls with a transient error. */
  moduleErrors(module: Module, share: number): void;
  /** The whole system's state: the monolith holds every service. */
  snapshot(): SystemSnapshot;
  /** The same, packed in columns: what the runner reads (a capacity run holds a few hundred thousand orders). */
  packedSnapshot(): ByClone<PackedSnapshot>;
}

/** A call that outlived its deadline (a fault held it). Coded as a socket timeout is. */
export class CallTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(hop: string, ms: number) {
    super(`${hop} did not answer within ${ms} ms`);
    this.name = 'CallTimeoutError';
  }
}

/**
 * The direct pattern's system: a modular monolith. The four services are modules of one
 * program and call each other as functions; each module's boundary is a fault gate
 * (`direct:payments`…), so a scenario that takes payments down reaches it as it reaches
 * every other pattern's payments. Calls through a faulted boundary get the hop deadline
 * REST and gRPC have, and the run's resilience policy wraps the hops as it wraps theirs.
 */
export const startMonolith: ComponentFactory<MonolithInit, MonolithApi> = async (init, env) => {
  const services = createServices(init.world);
  const hopErrors: Record<string, number> = {};
  const count = (kind: string) => (hopErrors[kind] = (hopErrors[kind] ?? 0) + 1);
  const gates = { inventory: env.gate('direct:inventory'), payments: env.gate('direct:payments'), notifications: env.gate('direct:notifications') };
  const errors = { inventory: new ErrorRate(env.random.fork()), payments: new ErrorRate(env.random.fork()), notifications: new ErrorRate(env.random.fork()) };
  const gateOf: Readonly<Record<Hop, BoundaryGate>> = { charge: gates.payments, refund: gates.payments, reserve: gates.inventory, release: gates.inventory, notify: gates.notifications };
  const ports = withResilience(
    gatedPorts(directPorts(services), gates, errors, init.hopTimeoutMs),
    RESILIENCE_POLICIES[init.resilience],
    seededRandom(init.seed),
    (hop, event) => count(`${hop}:${event}`),
    (hop) => !gateOf[hop].quiet,
  );
  const onHopError = (hop: string, err: unknown) => count(`${hop}:${errorKind(err)}`);
  return {
    api: {
      placeOrder: (order: OrderRequest) => runOrderWorkflow(services.orders, ports, order, onHopError),
      customerOrders: (customerId: string) => services.orders.forCustomer(customerId),
      snapshot: () => snapshotServices(services),
      packedSnapshot: () => {
        const packed = packServices(services);
        return byClone(packed, buffersOf(packed));
      },
      hopErrors: () => ({ ...hopErrors }),
      moduleErrors: (module: Module, share: number) => errors[module].set(share),
    },
    stop: async () => {},
  };
};

/** Each port through its module's gate; a call held by a fault gives up at the deadline. */
function gatedPorts(ports: WorkflowPorts, gates: Readonly<Record<Module, BoundaryGate>>, errors: Readonly<Record<Module, ErrorRate>>, deadlineMs: number): WorkflowPorts {
  const module =
    <T>(name: Module, fn: () => Promise<T>) =>
    (): Promise<T> =>
      errors[name].fail() ? Promise.reject(new TransientServiceError(name)) : fn();
  const through = <T>(gate: BoundaryGate, fn: () => Promise<T>): Promise<T> => {
    // The modules answer within their own microtasks: with no fault there is nothing to wait for.
    if (gate.quiet) return gate.callInMemory(fn);
    return withDeadline(gate.call(fn), deadlineMs, gate.hop);
  };
  return {
    charge: (order) => through(gates.payments, module('payments', () => ports.charge(order))),
    refund: (orderId) => through(gates.payments, module('payments', () => ports.refund(orderId))),
    reserve: (order) => through(gates.inventory, module('inventory', () => ports.reserve(order))),
    release: (orderId) => through(gates.inventory, module('inventory', () => ports.release(orderId))),
    notify: (orderId, status) => through(gates.notifications, module('notifications', () => ports.notify(orderId, status))),
  };
}

function withDeadline<T>(call: Promise<T>, ms: number, hop: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CallTimeoutError(hop, ms)), ms)));
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}
