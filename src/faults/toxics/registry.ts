import { UnknownNameError } from '../../errors.js';
import { bandwidth, type BandwidthSpec } from './bandwidth.js';
import { down, type DownSpec } from './down.js';
import { latency, type LatencySpec } from './latency.js';
import { resetPeer, type ResetPeerSpec } from './reset-peer.js';
import { slicer, type SlicerSpec } from './slicer.js';
import { timeout, type TimeoutSpec } from './timeout.js';
import type { Toxic } from './types.js';

export type { BandwidthSpec, DownSpec, LatencySpec, ResetPeerSpec, SlicerSpec, TimeoutSpec };

/** A fault as data (what a scenario's timeline holds): its type, common fields and parameters. */
export type FaultSpec = LatencySpec | BandwidthSpec | TimeoutSpec | ResetPeerSpec | DownSpec | SlicerSpec;

export type FaultType = FaultSpec['type'];

type Factories = { readonly [T in FaultType]: (spec: Extract<FaultSpec, { type: T }>) => Toxic };

const FACTORIES: Factories = {
  latency,
  bandwidth,
  timeout,
  reset_peer: resetPeer,
  down,
  slicer,
};

export const FAULT_TYPES = Object.keys(FACTORIES) as readonly FaultType[];

/** Validate a fault spec and build the fault. Throws InvalidOptionError / UnknownNameError. */
export function createToxic(spec: FaultSpec): Toxic {
  const factory = Object.hasOwn(FACTORIES, spec.type) ? (FACTORIES[spec.type] as (s: FaultSpec) => Toxic) : undefined;
  if (!factory) throw new UnknownNameError('fault type', String(spec.type), FAULT_TYPES);
  return factory(spec);
}
