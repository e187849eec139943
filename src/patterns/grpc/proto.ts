import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type {
  InventoryServiceDefinition,
  NotificationServiceDefinition,
  OrderServiceDefinition,
  PaymentServiceDefinition,
} from './messages.js';

/** How messages are decoded: see messages.ts. */
export const PROTO_OPTIONS: Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

const PROTO_FILE = join('proto', 'orders.proto');

/**
 * proto/orders.proto ships at the package root. This file runs as src/patterns/grpc/proto.ts
 * (vitest) or dist/src/patterns/grpc/proto.js (built, installed anywhere), so walk up to
 * the first folder that has both package.json and the proto.
 */
export function protoPath(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const candidate = join(dir, PROTO_FILE);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${PROTO_FILE} above ${from}`);
    dir = parent;
  }
}

export interface OrderProto {
  readonly OrderService: OrderServiceDefinition & ServiceDefinition;
  readonly InventoryService: InventoryServiceDefinition & ServiceDefinition;
  readonly PaymentService: PaymentServiceDefinition & ServiceDefinition;
  readonly NotificationService: NotificationServiceDefinition & ServiceDefinition;
}

let cached: OrderProto | undefined;

/** The service definitions of orders.proto, loaded once per thread. */
export function loadOrderProto(): OrderProto {
  if (cached) return cached;
  const pkg = loadSync(protoPath(), PROTO_OPTIONS);
  const service = <T>(name: string) => {
    const def = pkg[`patternbench.v1.${name}`];
    if (!def || 'format' in def) throw new Error(`orders.proto has no service ${name}`);
    return def as unknown as T & ServiceDefinition;
  };
  cached = {
    OrderService: service<OrderServiceDefinition>('OrderService'),
    InventoryService: service<InventoryServiceDefinition>('InventoryService'),
    PaymentService: service<PaymentServiceDefinition>('PaymentService'),
    NotificationService: service<NotificationServiceDefinition>('NotificationService'),
  };
  return cached;
}
