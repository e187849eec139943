/**
 * Broken invariants explained: each offender's journey — what the client saw and every
 * effect the services recorded, in time order, ms from placement. Pure: built after the
 * run from the placed-order records and the snapshot.
 */
import type { CheckedInvariants, InvariantName } from '../workflow/invariants.js';
import type { SystemSnapshot } from '../workflow/services.js';
import type { ClientRecord } from './placed.js';
import type { JourneyEvent, Violation } from './results.js';

/** An event before it is put relative to the origin: `at` in epoch ms. */
type Timed = Omit<JourneyEvent, 'ms'> & { readonly at: number };

const STOCK_INVARIANTS: ReadonlySet<InvariantName> = new Set(['oversold', 'stockNotConserved']);

/** The order ids among the offenders (SKUs left out), each once. */
export function offendingOrders(checked: CheckedInvariants): string[] {
  const ids = new Set<string>();
  for (const [name, list] of Object.entries(checked.offenders ?? {}) as [InvariantName, readonly string[]][]) {
    if (!STOCK_INVARIANTS.has(name)) for (const id of list) ids.add(id);
  }
  return [...ids];
}

/** Per broken invariant (the report's order), its count and its offenders' journeys; [] when nothing broke. */
export function explainViolations(checked: CheckedInvariants, clients: readonly ClientRecord[], snapshot: SystemSnapshot): Violation[] {
  const journeys = buildJourneys(offendingOrders(checked), clients, snapshot);
  const out: Violation[] = [];
  for (const [name, list] of Object.entries(checked.offenders ?? {}) as [InvariantName, readonly string[]][]) {
    const count = checked[name];
    if (STOCK_INVARIANTS.has(name)) out.push({ invariant: name, count, orders: [], skus: [...list] });
    else out.push({ invariant: name, count, orders: list.map((orderId) => ({ orderId, journey: journeys.get(orderId) ?? [] })) });
  }
  const rank = (v: Violation) => Object.keys(checked).indexOf(v.invariant);
  return out.sort((a, b) => rank(a) - rank(b));
}

/** Each order's journey: its events in time order, ms from placement (or from its first event if the client never placed it). */
export function buildJourneys(ids: readonly string[], clients: readonly ClientRecord[], snapshot: SystemSnapshot): Map<string, JourneyEvent[]> {
  const events = new Map<string, Timed[]>(ids.map((id) => [id, []]));
  const origin = new Map<string, number>();
  for (const c of clients) {
    const list = events.get(c.orderId);
    if (!list) continue;
    origin.set(c.orderId, c.placedAt);
    list.push(...clientEvents(c));
  }
  serviceEvents(snapshot, events);
  const out = new Map<string, JourneyEvent[]>();
  for (const [id, list] of events) {
    // Stable: at equal times the client's placement stays first, then the services in the order read.
    const sorted = [...list].sort((a, b) => a.at - b.at);
    const zero = origin.get(id) ?? sorted[0]?.at ?? 0;
    out.set(id, sorted.map(({ at, ...e }) => ({ ms: round(at - zero), ...e })));
  }
  return out;
}

function clientEvents(c: ClientRecord): Timed[] {
  const out: Timed[] = [{ at: c.placedAt, service: 'client', event: 'placed', what: 'placed' }];
  if (c.acceptedAt !== undefined) out.push({ at: c.acceptedAt, service: 'client', event: 'accepted', what: 'accepted' });
  const end = c.end;
  if (end.kind === 'outcome') {
    out.push({ at: end.at, service: 'client', event: 'answered', what: `answered ${statusText(end.status, end.reason)}`, status: end.status, ...(end.reason ? { reason: end.reason } : {}) });
  } else if (end.kind === 'error') {
    out.push({ at: end.at, service: 'client', event: 'errored', what: `error ${end.code}`, code: end.code });
  } else if (end.kind === 'timeout') {
    out.push({ at: end.at, service: 'client', event: 'no-answer', what: 'no answer by the drain deadline' });
  }
  return out;
}

/** Every effect the snapshot holds for the wanted orders (`events`' keys), appended to their lists; read cause first (an effect, then the status it led to), which orders ties. */
function serviceEvents(snapshot: SystemSnapshot, events: Map<string, Timed[]>): void {
  for (const e of snapshot.payments.ledger) {
    const kind = e.kind === 'charge' ? 'charged' : 'refunded';
    events.get(e.orderId)?.push({ at: e.at ?? 0, service: 'payments', event: kind, what: `${e.kind} ${e.amountCents} cents`, amountCents: e.amountCents });
  }
  snapshot.payments.declined.forEach((id, i) => {
    events.get(id)?.push({ at: snapshot.payments.declinedAt?.[i] ?? 0, service: 'payments', event: 'declined', what: 'charge declined' });
  });
  for (const r of snapshot.inventory.reservations) {
    const list = events.get(r.orderId);
    if (!list) continue;
    const items = r.items.map((i) => `${i.qty} × ${i.sku}`).join(', ');
    list.push({ at: r.at ?? 0, service: 'inventory', event: r.state === 'rejected' ? 'rejected' : 'reserved', what: `${r.state === 'rejected' ? 'reserve rejected' : 'reserve'} ${items}` });
    if (r.releasedAt !== undefined) list.push({ at: r.releasedAt, service: 'inventory', event: 'released', what: `release ${items}` });
  }
  for (const o of snapshot.orders.orders) {
    const list = events.get(o.orderId);
    if (!list) continue;
    for (const h of o.history ?? []) {
      const reason = h.status === 'CANCELLED' ? o.reason : undefined;
      list.push({ at: h.at, service: 'orders', event: 'status', what: statusText(h.status, reason), status: h.status, ...(reason ? { reason } : {}) });
    }
  }
  for (const n of snapshot.notifications.log ?? []) {
    events.get(n.orderId)?.push({ at: n.at, service: 'notifications', event: 'notified', what: `notified ${n.status}`, status: n.status });
  }
}

function statusText(status: string, reason: string | undefined): string {
  return reason ? `${status} (${reason})` : status;
}

/** ms to a tenth. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
