/**
 * A call's result that crosses to the main thread as a structured clone, not as JSON text
 * (placement/answer.ts): for results holding typed arrays, which JSON would spell out index
 * by index (a packed snapshot's columns). On the main thread a call returns the value
 * itself; across a thread or a process boundary, its clone.
 */
export class ByClone<T> {
  constructor(
    readonly value: T,
    /** Buffers of `value` moved to the receiving thread instead of copied (the sender's views of them are emptied). */
    readonly transfer: readonly ArrayBuffer[] = [],
  ) {}
}

/** `transfer`: buffers of `value` that only it uses, to move rather than copy to a worker's parent (a process copies them). */
export function byClone<T>(value: T, transfer: readonly ArrayBuffer[] = []): ByClone<T> {
  return new ByClone(value, transfer);
}

/** What a call returning `T` resolves to on the caller's side. */
export type Unclone<T> = T extends ByClone<infer U> ? U : T;

export function unclone(value: unknown): unknown {
  return value instanceof ByClone ? (value.value as unknown) : value;
}
