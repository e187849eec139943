import type { ComponentApi } from '../placement/component.js';
import type { InventorySnapshot } from '../workflow/inventory.js';
import type { NotificationsSnapshot } from '../workflow/notifications.js';
import type { OrdersSnapshot } from '../workflow/orders.js';
import type { PaymentsSnapshot } from '../workflow/payments.js';
import type { SystemSnapshot } from '../workflow/services.js';

/** The workflow's four services, in the order a system starts them (downstream first, orders last). */
export const WORKFLOW_SERVICES = ['inventory', 'payments', 'notifications', 'orders'] as const;
export type WorkflowService = (typeof WORKFLOW_SERVICES)[number];

/** The part of the system's state one component holds (its own service's). */
export interface SnapshotPart {
  readonly orders?: OrdersSnapshot;
  readonly inventory?: InventorySnapshot;
  readonly payments?: PaymentsSnapshot;
  readonly notifications?: NotificationsSnapshot;
}

/** What every service component answers, wherever it runs. */
export interface ServiceApi extends ComponentApi {
  snapshot(): SnapshotPart;
  /** Failures on the component's outgoing hops, by `hop:kind`. */
  hopErrors(): Readonly<Record<string, number>>;
}

/** A service that can be made to fail a share of its calls with a transient error (the `flaky` scenario). */
export interface ErrorsApi extends ComponentApi {
  errors(share: number): void;
}

/** A service that can die abruptly and come back (an application fault). */
export interface CrashableApi extends ComponentApi {
  /** Die mid-batch (in-flight work lost, connections dropped) and restart after `downMs`. Resolves once it is down. */
  crash(downMs: number): Promise<void>;
}

/** Put the parts together; a part missing means a component did not report it (a bug). */
export function mergeSnapshots(parts: readonly SnapshotPart[]): SystemSnapshot {
  const merged: Partial<Record<keyof SnapshotPart, unknown>> = {};
  for (const part of parts) for (const [k, v] of Object.entries(part)) if (v !== undefined) merged[k as keyof SnapshotPart] = v;
  const { orders, inventory, payments, notifications } = merged as SnapshotPart;
  if (!orders || !inventory || !payments || !notifications) {
    const missing = (['orders', 'inventory', 'payments', 'notifications'] as const).filter((k) => merged[k] === undefined);
    throw new Error(`the system's snapshot has no ${missing.join(', ')}`);
  }
  return { orders, inventory, payments, notifications };
}

/** Sum `hop:kind` counts from several components. */
export function mergeCounts(parts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) for (const [k, n] of Object.entries(part)) out[k] = (out[k] ?? 0) + n;
  return out;
}
