import { resolveCommon } from './params.js';
import { passThrough, type FaultCommon, type RefusingToxic } from './types.js';

export interface DownSpec extends FaultCommon {
  readonly type: 'down';
}

/**
 * The service is down. A new connection that draws the fault is accepted and reset at
 * once, before the server is dialled (the nearest to ECONNREFUSED a listener that stays
 * bound can get); an open connection that draws it when the fault is added is closed
 * (FIN to both peers, as when the server's process exits). The direction is ignored.
 * Removed: new connections reach the server again.
 */
export function down(spec: DownSpec): RefusingToxic {
  const common = resolveCommon('down', { ...spec, name: spec.name ?? 'down' });
  return {
    type: 'down',
    ...common,
    params: {},
    refusesNewConnections: true,
    stage(ctx) {
      const timer = setTimeout(() => ctx.close(), 0);
      return passThrough(ctx, () => clearTimeout(timer));
    },
  };
}
