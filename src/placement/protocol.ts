import type { Address } from '../patterns/types.js';
import type { SystemSnapshot } from '../workflow/services.js';

/** What the main thread hands a service worker at start. */
export interface WorkerBoot {
  /** Module holding the host factory (a file: URL string). */
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly init: unknown;
  /** Where the worker publishes its wire stats (see src/wire/meter.ts). */
  readonly wireBuffer: SharedArrayBuffer;
}

export type MainToWorker =
  | { readonly type: 'call'; readonly id: number; readonly method: 'snapshot' | 'stop' }
  | { readonly type: 'route-reply'; readonly id: number; readonly address?: Address; readonly error?: string };

export type WorkerToMain =
  | { readonly type: 'ready'; readonly address: Address; readonly hops?: Readonly<Record<string, Address>> }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'route'; readonly id: number; readonly hop: string; readonly target: Address }
  | { readonly type: 'hop-errors'; readonly counts: Readonly<Record<string, number>> }
  | { readonly type: 'reply'; readonly id: number; readonly snapshot?: SystemSnapshot; readonly error?: string };
