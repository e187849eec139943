import { numberAtLeast, resolveCommon } from './params.js';
import { passThrough, type FaultCommon, type Toxic } from './types.js';

export interface ResetPeerSpec extends FaultCommon {
  readonly type: 'reset_peer';
  /** Reset this long after the fault took hold of the connection, ms; default 0 (at once). */
  readonly timeoutMs?: number;
}

/**
 * Resets the connection (RST to both peers: they see ECONNRESET), at once or after
 * timeoutMs. Until then bytes pass unchanged. Removed before it fires: nothing happens.
 */
export function resetPeer(spec: ResetPeerSpec): Toxic {
  const common = resolveCommon('reset_peer', spec);
  const timeoutMs = numberAtLeast('reset_peer', 'timeoutMs', spec.timeoutMs, 0, 0);
  return {
    type: 'reset_peer',
    ...common,
    params: { timeoutMs },
    stage(ctx) {
      // Even "at once" is a timer: the stage is being built inside the pipe's own setup.
      const timer = setTimeout(() => ctx.reset(), timeoutMs);
      return passThrough(ctx, () => clearTimeout(timer));
    },
  };
}
