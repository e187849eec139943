import { InvalidOptionError } from '../errors.js';
import type { Address, Network } from '../net/address.js';
import type { Random } from '../random.js';
import type { BoundaryController, BoundaryStats } from './boundary.js';
import { FaultProxy, type HopStats } from './proxy.js';
import { createToxic, type FaultSpec } from './toxics/registry.js';

export type { HopStats } from './proxy.js';
export type { BoundaryStats } from './boundary.js';

/**
 * Which hops a fault action applies to: a hop name (`rest:payments`), or a glob where `*`
 * stands for any run of characters (`*:payments`, `rest:*`, `*`).
 */
export type HopSelector = string;

interface Rule {
  readonly selector: HopSelector;
  readonly matches: (hop: string) => boolean;
  readonly spec: FaultSpec;
  readonly name: string;
}

/** An in-process hop: a gate driven through its controller (maybe in another thread). */
interface Boundary {
  readonly controller: BoundaryController;
  /** Names of the faults this network put on it: checked here, without a round trip to the gate's thread. */
  readonly faults: Set<string>;
}

/**
 * The run's network with faults: `route(hop, target)` puts a FaultProxy on 127.0.0.1:0 in
 * front of `target` (one per hop name) and returns the proxy's address. Faults are added
 * to and removed from hops by name or glob while connections are open; a fault added by
 * glob also lands on hops routed later, until it is removed with the same selector.
 *
 * Each hop's proxy draws from its own fork of `random`, forked in the order hops are
 * first routed, so one hop's traffic never shifts another hop's fault schedule.
 *
 * A hop with no socket (a service called as a function) is attached as a boundary
 * (`attachBoundary`): the same rules reach it as reach the proxies, through its
 * controller. Its gate brings its own seeded stream, so attaching one forks nothing here.
 */
export class FaultNetwork implements Network {
  private readonly proxies = new Map<string, Promise<FaultProxy>>();
  private readonly ready = new Map<string, FaultProxy>();
  private readonly rules: Rule[] = [];
  private readonly boundaries = new Map<string, Boundary>();
  private closed = false;

  constructor(private readonly random: Random) {}

  /** Start (or reuse) the proxy of `hop`; resolves to the address the pattern must dial. */
  async route(hop: string, target: Address): Promise<Address> {
    if (this.closed) throw new Error(`fault network is closed; cannot route ${hop}`);
    let pending = this.proxies.get(hop);
    if (!pending) {
      const proxy = new FaultProxy(hop, target, this.random.fork());
      pending = proxy.listen().then(() => proxy);
      this.proxies.set(hop, pending);
      const p = await pending;
      this.ready.set(hop, p);
      for (const rule of this.rules) if (rule.matches(hop)) p.addToxic(createToxic(rule.spec));
    }
    const proxy = await pending;
    if (proxy.target.host !== target.host || proxy.target.port !== target.port) {
      throw new InvalidOptionError('hop', hop, `one target per hop (already routed to ${proxy.target.host}:${proxy.target.port})`);
    }
    return proxy.address;
  }

  /**
   * Put the in-process hop `hop` under the network's rules: every active rule that matches
   * it is added now (a name two rules share lands once, the first), and later ones as they
   * are added. One proxy or boundary per hop name.
   */
  attachBoundary(hop: string, controller: BoundaryController): void {
    if (this.closed) throw new Error(`fault network is closed; cannot attach ${hop}`);
    if (this.boundaries.has(hop) || this.proxies.has(hop)) {
      throw new InvalidOptionError('hop', hop, 'one proxy or boundary per hop (already attached)');
    }
    const boundary: Boundary = { controller, faults: new Set() };
    this.boundaries.set(hop, boundary);
    for (const rule of this.rules) if (rule.matches(hop) && !boundary.faults.has(rule.name)) addTo(boundary, rule);
  }

  /** Take `hop`'s boundary off the network, clearing its faults (held calls go on). False when there is none. */
  detachBoundary(hop: string): boolean {
    const boundary = this.boundaries.get(hop);
    if (!boundary) return false;
    this.boundaries.delete(hop);
    boundary.controller.clear();
    return true;
  }

  /** Names of the hops routed so far, then of the boundaries attached, each in order. */
  hops(): readonly string[] {
    return [...this.ready.keys(), ...this.boundaries.keys()];
  }

  /**
   * Add a fault to every hop `selector` matches, now and routed later. Validates the spec
   * (InvalidOptionError naming the field). Returns the fault's name, to remove it by.
   */
  addFault(selector: HopSelector, spec: FaultSpec): string {
    const name = createToxic(spec).name; // validates before anything changes
    const rule: Rule = { selector, matches: globMatcher(selector), spec, name };
    for (const [hop, proxy] of this.ready) {
      if (rule.matches(hop) && proxy.faults().includes(name)) {
        throw new InvalidOptionError('fault name', name, `a name not already used on hop ${hop}`);
      }
    }
    for (const [hop, boundary] of this.boundaries) {
      if (rule.matches(hop) && boundary.faults.has(name)) {
        throw new InvalidOptionError('fault name', name, `a name not already used on hop ${hop}`);
      }
    }
    this.rules.push(rule);
    for (const [hop, proxy] of this.ready) if (rule.matches(hop)) proxy.addToxic(createToxic(spec));
    for (const [hop, boundary] of this.boundaries) if (rule.matches(hop)) addTo(boundary, rule);
    return name;
  }

  /**
   * Remove the fault `name` from every hop `selector` matches (held bytes are delivered in
   * order), and forget a rule added with the same selector and name. Returns the hops it
   * was removed from.
   */
  removeFault(selector: HopSelector, name: string): readonly string[] {
    const matches = globMatcher(selector);
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const rule = this.rules[i];
      if (rule && rule.selector === selector && rule.name === name) this.rules.splice(i, 1);
    }
    const removed: string[] = [];
    for (const [hop, proxy] of this.ready) if (matches(hop) && proxy.removeToxic(name)) removed.push(hop);
    for (const [hop, boundary] of this.boundaries) {
      if (matches(hop) && boundary.faults.delete(name)) {
        boundary.controller.remove(name);
        removed.push(hop);
      }
    }
    return removed;
  }

  /** Remove every fault from every hop, and every rule. */
  clearFaults(): void {
    this.rules.length = 0;
    for (const proxy of this.ready.values()) for (const name of proxy.faults()) proxy.removeToxic(name);
    for (const boundary of this.boundaries.values()) {
      boundary.faults.clear();
      boundary.controller.clear();
    }
  }

  /** Per-hop stats, in the order hops were routed. */
  stats(): readonly HopStats[] {
    return [...this.ready.values()].map((p) => p.stats());
  }

  /** Per-boundary stats, in the order boundaries were attached (asked of each gate's thread). */
  boundaryStats(): Promise<BoundaryStats[]> {
    return Promise.all([...this.boundaries.values()].map((b) => b.controller.stats()));
  }

  /** Detach every boundary (its faults cleared), close every proxy and every socket; resolves when all are closed. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const hop of [...this.boundaries.keys()]) this.detachBoundary(hop);
    const proxies = await Promise.allSettled(this.proxies.values());
    await Promise.all(proxies.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
  }
}

function addTo(boundary: Boundary, rule: Rule): void {
  boundary.faults.add(rule.name);
  boundary.controller.add(rule.spec);
}

/** `*` matches any run of characters; everything else literally. */
export function globMatcher(selector: HopSelector): (hop: string) => boolean {
  if (!selector.includes('*')) return (hop) => hop === selector;
  const source = selector
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`);
  return (hop) => re.test(hop);
}
