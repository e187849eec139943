import { effectClock, type Clock } from './clock.js';
import { InventoryService, type InventorySnapshot } from './inventory.js';
import { NotificationsService, type NotificationsSnapshot } from './notifications.js';
import { OrdersService, type OrdersSnapshot } from './orders.js';
import { SnapshotPacker, type PackedSnapshot } from './packed-snapshot.js';
import { PaymentsService, type PaymentsSnapshot } from './payments.js';

/** The initial state of a run: stock per SKU and balance per customer. */
export interface World {
  readonly stock: Readonly<Record<string, number>>;
  readonly balances: Readonly<Record<string, number>>;
}

/** The four services of the order workflow, in memory, fresh per run. */
export interface WorkflowServices {
  readonly orders: OrdersService;
  readonly inventory: InventoryService;
  readonly payments: PaymentsService;
  readonly notifications: NotificationsService;
}

/**
 * The state of every service after a run, as plain data: what the invariant checker
 * reads. Plain data so that services living in a worker thread can hand it over.
 */
export interface SystemSnapshot {
  readonly orders: OrdersSnapshot;
  readonly inventory: InventorySnapshot;
  readonly payments: PaymentsSnapshot;
  readonly notifications: NotificationsSnapshot;
}

/** `clock`: when each effect happened, for the journeys (see `Clock`). */
export function createServices(world: World, clock: Clock = effectClock()): WorkflowServices {
  return {
    orders: new OrdersService(clock),
    inventory: new InventoryService(world.stock, clock),
    payments: new PaymentsService(world.balances, clock),
    notifications: new NotificationsService(clock),
  };
}

export function snapshotServices(services: WorkflowServices): SystemSnapshot {
  return {
    orders: services.orders.snapshot(),
    inventory: services.inventory.snapshot(),
    payments: services.payments.snapshot(),
    notifications: services.notifications.snapshot(),
  };
}

/** The same state packed in columns, straight from the services: no object per record (see packed-snapshot.ts). */
export function packServices(services: WorkflowServices): PackedSnapshot {
  const packer = new SnapshotPacker();
  services.orders.packInto(packer);
  services.inventory.packInto(packer);
  services.payments.packInto(packer);
  services.notifications.packInto(packer);
  return packer.build();
}
