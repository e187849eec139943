import { MultiBar, type SingleBar } from 'cli-progress';
import type { CliIo } from './io.js';

/** Whether colour may be used: not with --no-color, a NO_COLOR variable (no-color.org) or a stderr that is not a terminal. */
export function colorEnabled(io: CliIo, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return io.interactive && flag !== false && !env.NO_COLOR;
}

/** One progress bar on stderr over every run (or step), with its count and ETA; for a terminal only. */
export interface ProgressBar {
  /** Move the bar to `value` of `total` (runs, or steps), labelled `label` (pattern · scenario · phase). */
  update(value: number, total: number, label: string): void;
  /** A line printed above the bar (a finished run's summary, a sweep's step). */
  log(line: string): void;
  /** Take the bar off the screen; call before printing results. Idempotent. */
  stop(): void;
}

const GREEN = '\x1b[32m';
const RESET = '\x1b[0m';
const CELLS = 30;

/** The bar itself: `progress` (0 to 1) of 30 cells filled, the filled part green when `color`. */
export function barCells(progress: number, color: boolean): string {
  const filled = Math.round(Math.min(1, Math.max(0, progress)) * CELLS);
  const done = '█'.repeat(filled);
  return `${color && filled > 0 ? `${GREEN}${done}${RESET}` : done}${'░'.repeat(CELLS - filled)}`;
}

/** What a bar counts and how it tells the time left. */
export interface BarOptions {
  /** The unit of the count: `runs` (the default), `steps`. */
  readonly unit?: string;
  /**
   * The time left at most, s, when the work has a time budget: shown as `ETA ≤ N s` instead
   * of cli-progress's estimate from the rate so far. Read at every redraw.
   */
  readonly etaBoundS?: () => number;
}

/** The ETA part: the bound rounded up, or the estimate from the rate — which, before the first unit is done, there is none of. */
function etaText(value: number, estimateS: number, bound: (() => number) | undefined): string {
  if (bound) return `≤ ${Math.ceil(Math.max(0, bound()))} s`;
  return value > 0 && Number.isFinite(estimateS) ? `${Math.round(estimateS)} s` : '…';
}

/**
 * A cli-progress bar writing through `io.err`. Colourless unless `color` (the filled part
 * green). The stream is an adapter: cli-progress needs `write`, `isTTY` and `columns`.
 */
export function progressBar(io: CliIo, color: boolean, options: BarOptions = {}): ProgressBar {
  const stream = { isTTY: true, columns: process.stderr.columns || 100, write: (s: string) => (io.err(s), true) } as unknown as NodeJS.WritableStream;
  const unit = options.unit ?? 'runs';
  const multi = new MultiBar({
    stream,
    hideCursor: false,
    clearOnComplete: true,
    stopOnComplete: false,
    format: (_options, params, payload: { label?: string }) =>
      `${barCells(params.progress, color)} ${params.value}/${params.total} ${unit} · ETA ${etaText(params.value, params.eta, options.etaBoundS)} · ${payload.label ?? ''}`,
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
