import { numberAtLeast, resolveCommon } from './params.js';
import type { FaultCommon, Toxic } from './types.js';

export interface TimeoutSpec extends FaultCommon {
  readonly type: 'timeout';
  /** Close the connection this long after the fault took hold of it, ms; 0 (default): hold forever. */
  readonly timeoutMs?: number;
}

/**
 * A black hole: the pipe stops delivering. The bytes are held, not dropped (once a few
 * hundred KB pile up the proxy stops reading, so the sender's TCP window closes as on a
 * dead link). After timeoutMs > 0 the connection is closed. Removed: what is held is
 * delivered in order and the pipe flows again — like a partition that heals while TCP
 * retransmits. (Toxiproxy discards what it read meanwhile; a stream with a hole in the
 * middle is something no real network produces, and it would break framing instead of
 * testing timeouts.)
 */
export function timeout(spec: TimeoutSpec): Toxic {
  const common = resolveCommon('timeout', spec);
  const timeoutMs = numberAtLeast('timeout', 'timeoutMs', spec.timeoutMs, 0, 0);
  return {
    type: 'timeout',
    ...common,
    params: { timeoutMs },
    stage(ctx) {
      const held: Buffer[] = [];
      let ended = false;
      const timer = timeoutMs > 0 ? setTimeout(() => ctx.close(), timeoutMs) : undefined;
      const stop = () => clearTimeout(timer);
      return {
        write(chunk) {
          held.push(chunk);
          ctx.hold(chunk.length);
        },
        end: () => {
          ended = true;
        },
        flush() {
          stop();
          for (const chunk of held.splice(0)) {
            ctx.release(chunk.length);
            ctx.forward(chunk);
          }
          if (ended) ctx.end();
        },
        dispose: stop,
      };
    },
  };
}
