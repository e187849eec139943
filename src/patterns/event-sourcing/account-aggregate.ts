import type { JsonObject, NewEvent, RecordedEvent } from '../../event-store/index.js';
import { ACCOUNT_EVENTS, dataOf, type AccountData } from './events.js';

/**
 * A customer account: its balance and every charge decision by order (the idempotency
 * memory: a repeated charge or refund returns the first answer and moves no money).
 * `decided[orderId]` is the amount charged, or -1 for a declined charge; `refunded` lists
 * the orders whose charge was given back.
 */
export interface AccountState {
  balanceCents: number;
  decided: Record<string, number>;
  refunded: Record<string, true>;
}

export const initialAccount = (balanceCents: number): AccountState => ({ balanceCents, decided: {}, refunded: {} });

/** Folds one event into `state`, in place (the loader owns the state it folds). */
export function applyAccountEvent(state: AccountState, event: Pick<RecordedEvent, 'type' | 'data'>): AccountState {
  const { orderId, amountCents } = dataOf<AccountData>(event);
  if (event.type === ACCOUNT_EVENTS.charged) {
    state.balanceCents -= amountCents;
    state.decided[orderId] = amountCents;
  } else if (event.type === ACCOUNT_EVENTS.declined) {
    state.decided[orderId] = -1;
  } else if (event.type === ACCOUNT_EVENTS.refunded) {
    state.balanceCents += amountCents;
    state.refunded[orderId] = true;
  }
  return state;
}

export const accountToJson = (state: AccountState): JsonObject => ({ balanceCents: state.balanceCents, decided: state.decided, refunded: state.refunded });
export const accountFromJson = (json: JsonObject): AccountState => {
  const state = json as unknown as Partial<AccountState>;
  return { balanceCents: state.balanceCents ?? 0, decided: state.decided ?? {}, refunded: state.refunded ?? {} };
};

export interface ChargeDecision {
  readonly events: NewEvent[];
  readonly ok: boolean;
  readonly duplicate: boolean;
}

export const AccountAggregate = {
  charge(state: AccountState, orderId: string, amountCents: number): ChargeDecision {
    const before = state.decided[orderId];
    if (before !== undefined) return { events: [], ok: before >= 0, duplicate: true };
    if (state.balanceCents < amountCents) {
      return { events: [{ type: ACCOUNT_EVENTS.declined, data: { orderId, amountCents } }], ok: false, duplicate: false };
    }
    return { events: [{ type: ACCOUNT_EVENTS.charged, data: { orderId, amountCents } }], ok: true, duplicate: false };
  },

  /** Give back the order's charge, once; nothing to give back (declined, never charged, refunded already) is a duplicate. */
  refund(state: AccountState, orderId: string): ChargeDecision {
    const charged = state.decided[orderId];
    if (charged === undefined || charged < 0 || state.refunded[orderId]) return { events: [], ok: false, duplicate: true };
    return { events: [{ type: ACCOUNT_EVENTS.refunded, data: { orderId, amountCents: charged } }], ok: true, duplicate: false };
  },
};
