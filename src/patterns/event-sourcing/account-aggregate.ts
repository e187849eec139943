import type { JsonObject, NewEvent, RecordedEvent } from '../../event-store/index.js';
import { ACCOUNT_EVENTS, dataOf, type AccountData } from './events.js';

/**
 * A customer account: its balance and every charge decision by order (the idempotency
 * memory: a repeated charge returns the first answer and moves no money).
 * `decided[orderId]` is the amount charged, or -1 for a declined charge.
 */
export interface AccountState {
  balanceCents: number;
  decided: Record<string, number>;
}

export const initialAccount = (balanceCents: number): AccountState => ({ balanceCents, decided: {} });

/** Folds one event into `state`, in place (the loader owns the state it folds). */
export function applyAccountEvent(state: AccountState, event: Pick<RecordedEvent, 'type' | 'data'>): AccountState {
  const { orderId, amountCents } = dataOf<AccountData>(event);
  if (event.type === ACCOUNT_EVENTS.charged) {
    state.balanceCents -= amountCents;
    state.decided[orderId] = amountCents;
  } else if (event.type === ACCOUNT_EVENTS.declined) {
    state.decided[orderId] = -1;
  }
  return state;
}

export const accountToJson = (state: AccountState): JsonObject => ({ balanceCents: state.balanceCents, decided: state.decided });
export const accountFromJson = (json: JsonObject): AccountState => json as unknown as AccountState;

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
};
