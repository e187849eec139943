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

/**
 * What the parts of the system under test run in. `threads`: this process, on the threads
 * the placement names. `processes`: each part (as `per-service` names them) in a child
 * process of its own on loopback, reached over its sockets like a thread's, and driven
 * over the IPC channel (src/placement/process-thread.ts). The load generator, the clients
 * and the fault proxies stay in the parent.
 */
export const TOPOLOGIES = ['threads', 'processes'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const DEFAULT_TOPOLOGY: Topology = 'threads';

/** What each topology means, in the words the report uses. */
export const TOPOLOGY_DESCRIPTIONS: Readonly<Record<Topology, string>> = {
  threads: 'every part of the system under test in this process, on the threads the placement names',
  processes:
    "each service, the broker, each processor and the orchestrator in a child process of its own on loopback (per-service naming), reached through the fault proxies in the parent; a process's CPU is its own process.cpuUsage() (all its threads)",
};

export function isTopology(value: string): value is Topology {
  return (TOPOLOGIES as readonly string[]).includes(value);
}

/** The placements a topology allows: child processes hold one part each, as `per-service` names them. */
export function placementsFor(topology: Topology): readonly Placement[] {
  return topology === 'processes' ? ['per-service'] : PLACEMENTS;
}

/**
 * Where a run's system ran, in the report's words: the placement's description, or under
 * `processes` the topology's (the placement's would speak of worker threads).
 */
export function whereDescription(placement: Placement, topology: Topology | undefined): string {
  if (topology === 'processes') return TOPOLOGY_DESCRIPTIONS.processes;
  return PLACEMENT_DESCRIPTIONS[placement] ?? 'unknown placement';
}

/** `per-service` alone, or `per-service, topology processes` under processes. */
export function whereName(placement: Placement, topology: Topology | undefined): string {
  return topology === 'processes' ? `${placement}, topology processes` : placement;
}
