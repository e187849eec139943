/**
 * A call's result that crosses to the main thread as a structured clone, not as JSON text
 * (placement/answer.ts): for results holding typed arrays, which JSON would spell out index
 * by index (a packed snapshot's columns). On the main thread a call returns the value
 * itself; across a thread or a process boundary, its clone.
 */
export class ByClone<T> {
  constructor(readonly value: T) {}
}

export function byClone<T>(value: T): ByClone<T> {
  return new ByClone(value);
}

/** What a call returning `T` resolves to on the caller's side. */
export type Unclone<T> = T extends ByClone<infer U> ? U : T;

export function unclone(value: unknown): unknown {
  return value instanceof ByClone ? (value.value as unknown) : value;
}
