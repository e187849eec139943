import { MultiBar, type SingleBar } from 'cli-progress';
import type { CliIo } from './io.js';

/** Whether colour may be used: not with --no-color, a NO_COLOR variable (no-color.org) or a stderr that is not a terminal. */
export function colorEnabled(io: CliIo, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return io.interactive && flag !== false && !env.NO_COLOR;
}

/** One progress bar on stderr over every run (or step), with its count and ETA; for a terminal only. */
export interface ProgressBar {
  /** Move the bar to `value` of `total` runs, labelled `label` (pattern · scenario · phase). */
  update(value: number, total: number, label: string): void;
  /** A line printed above the bar (a finished run's summary). */
  log(line: string): void;
  /** Take the bar off the screen; call before printing results. Idempotent. */
  stop(): void;
}

const GREEN = '\x1b[32m';
const RESET = '\x1b[0m';

/**
 * A cli-progress bar writing through `io.err`. Colourless unless `color` (the filled part
 * green). The stream is an adapter: cli-progress needs `write`, `isTTY` and `columns`.
 */
export function progressBar(io: CliIo, color: boolean): ProgressBar {
  const stream = { isTTY: true, columns: process.stderr.columns || 100, write: (s: string) => (io.err(s), true) } as unknown as NodeJS.WritableStream;
  const size = 30;
  const multi = new MultiBar({
    stream,
    hideCursor: false,
    clearOnComplete: true,
    stopOnComplete: false,
    // Before the first run ends there is no rate yet: the ETA says so rather than INF.
    format: (_options, params, payload: { label?: string }) => {
      const filled = Math.round(Math.min(1, Math.max(0, params.progress)) * size);
      const done = '█'.repeat(filled);
      const bar = `${color ? `${GREEN}${done}${RESET}` : done}${'░'.repeat(size - filled)}`;
      const eta = params.value > 0 && Number.isFinite(params.eta) ? `${Math.round(params.eta)} s` : '…';
      return `${bar} ${params.value}/${params.total} runs · ETA ${eta} · ${payload.label ?? ''}`;
    },
  });
  let bar: SingleBar | null = null;
  let stopped = false;
  return {
    update(value, total, label) {
      if (stopped) return;
      if (!bar) bar = multi.create(total, value, { label });
      else {
        bar.setTotal(total);
        bar.update(value, { label });
      }
    },
    log(line) {
      if (stopped) io.err(`${line}\n`);
      else multi.log(`${line}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      // Redraw once: a log line waits for the next redraw, which a stop does not make.
      multi.update();
      multi.stop();
    },
  };
}
