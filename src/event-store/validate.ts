import type { ExpectedVersion, NewEvent } from './types.js';

/**
 * Argument checks shared by both stores. A violation is a programming error in the
 * caller, not bad user input, so it is a TypeError/RangeError rather than a catalogue error.
 */
export function checkAppend(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): void {
  checkStream(stream);
  if (expectedVersion !== 'any' && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0)) {
    throw new RangeError(`expectedVersion must be a non-negative integer or 'any', got ${String(expectedVersion)}`);
  }
  for (const event of events) {
    if (typeof event.type !== 'string' || event.type === '') {
      throw new TypeError(`every event needs a non-empty string type, got ${JSON.stringify(event.type)}`);
    }
  }
}

export function checkStream(stream: string): void {
  if (typeof stream !== 'string' || stream === '') {
    throw new TypeError(`stream must be a non-empty string, got ${JSON.stringify(stream)}`);
  }
}

export function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}
