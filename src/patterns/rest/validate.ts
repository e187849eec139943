import type { OrderItem, OrderRequest, TerminalStatus } from '../../workflow/types.js';
import { HttpError } from './http.js';

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, `${what} must be a JSON object`);
  return value as Json;
}

function text(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new HttpError(400, `${field} must be a non-empty string of at most 200 characters`);
  }
  return value;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new HttpError(400, `${field} must be an integer ≥ 0`);
  return value;
}

function items(body: Json): OrderItem[] {
  const value = body.items;
  if (!Array.isArray(value) || value.length === 0 || value.length > 100) throw new HttpError(400, 'items must be an array of 1 to 100 items');
  return value.map((raw, i) => {
    const item = object(raw, `items[${i}]`);
    const sku = item.sku;
    if (typeof sku !== 'string' || sku.length === 0) throw new HttpError(400, `items[${i}].sku must be a non-empty string`);
    const qty = count(item.qty, `items[${i}].qty`);
    if (qty === 0) throw new HttpError(400, `items[${i}].qty must be an integer ≥ 1`);
    return { sku, qty };
  });
}

/** POST /orders */
export function parseOrder(value: unknown): OrderRequest {
  const body = object(value, 'the order');
  return {
    orderId: text(body, 'orderId'),
    customerId: text(body, 'customerId'),
    items: items(body),
    amountCents: count(body.amountCents, 'amountCents'),
  };
}

/** POST /reservations */
export function parseReservation(value: unknown): { orderId: string; items: OrderItem[] } {
  const body = object(value, 'the reservation');
  return { orderId: text(body, 'orderId'), items: items(body) };
}

/** POST /charges */
export function parseCharge(value: unknown): { orderId: string; customerId: string; amountCents: number } {
  const body = object(value, 'the charge');
  return { orderId: text(body, 'orderId'), customerId: text(body, 'customerId'), amountCents: count(body.amountCents, 'amountCents') };
}

/** POST /notifications */
export function parseNotification(value: unknown): { orderId: string; status: TerminalStatus } {
  const body = object(value, 'the notification');
  const status = body.status;
  if (status !== 'CONFIRMED' && status !== 'CANCELLED') throw new HttpError(400, 'status must be "CONFIRMED" or "CANCELLED"');
  return { orderId: text(body, 'orderId'), status };
}
