/**
 * Where the system under test runs. One placement applies to every part of every pattern
 * in a run: services, the broker, event-store processors and the projection, the
 * orchestrator and its participants.
 */
export const PLACEMENTS = ['same-thread', 'shared', 'per-service'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** What each placement means, in the words the report uses. */
export const PLACEMENT_DESCRIPTIONS: Readonly<Record<Placement, string>> = {
  'same-thread': "every part of the system under test on the load generator's own event loop (the cheap-call ceiling)",
  shared: 'the whole system under test on one worker thread; the load generator on the main thread',
  'per-service': 'each service, the broker, each processor and the orchestrator on a worker thread of its own; the load generator on the main thread',
};

/** The name of the thread the load generator (and the client side of every pattern) runs on. */
export const MAIN_THREAD = 'main';

/** The worker thread that holds the whole system under `shared`. */
export const SHARED_THREAD = 'system';

/** The thread a part of the system runs on under `placement`. */
export function threadFor(placement: Placement, component: string): string {
  if (placement === 'same-thread') return MAIN_THREAD;
  if (placement === 'shared') return SHARED_THREAD;
  return component;
}

export function isPlacement(value: string): value is Placement {
  return (PLACEMENTS as readonly string[]).includes(value);
}

/**
 * The placement of a run that names none. Chosen from the table `npm run bench:placement`
 * prints (every pattern × every placement, in one run): see the README.
 */
export const DEFAULT_PLACEMENT: Placement = 'shared';
