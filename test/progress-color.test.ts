/** Colour on stderr: only the progress bar's filled cells are coloured (green), and only when colour is allowed. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../src/cli/io.js';
import { barCells, colorEnabled, progressBar } from '../src/cli/progress.js';

const GREEN = '\x1b[32m';
const RESET = '\x1b[0m';
/**
 * Any SGR escape (colour, bold, reset …); cli-progress's cursor moves and line clears are
 * other escapes. ESC goes in as a string: lint forbids it in a regex literal.
 */
const SGR = new RegExp(`${'\x1b'}\\[[\\d;]*m`);

/** A terminal's stderr, collected. */
function terminal(): { io: CliIo; err: () => string } {
  let err = '';
  return { io: { out: () => {}, err: (t) => (err += t), interactive: true }, err: () => err };
}

/** A bar over 10 runs: started at 0, 3 done 6 s later (cli-progress's ETA: 7 more at 0.5 runs/s, 14 s), a run's line above it, stopped. */
function drawThreeOfTen(io: CliIo, env: NodeJS.ProcessEnv): void {
  const bar = progressBar(io, colorEnabled(io, undefined, env));
  bar.update(0, 10, 'rest · starting');
  vi.setSystemTime(6000);
  bar.update(3, 10, 'rest · load');
  bar.log('[3/10] rest · baseline 410 orders/s, p99 7.4 ms, invariants OK');
  bar.stop();
}

describe('colour in the progress bar', () => {
  // The clock only: cli-progress's redraw timer never fires, so what is drawn is the bar as stop() redraws it.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('colours exactly the filled cells green', () => {
    expect(barCells(0.3, true)).toBe(`${GREEN}${'█'.repeat(9)}${RESET}${'░'.repeat(21)}`);
    expect(barCells(1, true)).toBe(`${GREEN}${'█'.repeat(30)}${RESET}`);
    expect(barCells(0, true)).toBe('░'.repeat(30));
    expect(barCells(0.3, false)).toBe(`${'█'.repeat(9)}${'░'.repeat(21)}`);
  });

  it('on a terminal with colour allowed: the bar’s filled cells in green, and no other colour escape in the output', () => {
    const { io, err } = terminal();
    drawThreeOfTen(io, {});
    expect(err()).toContain(`${GREEN}${'█'.repeat(9)}${RESET}${'░'.repeat(21)} 3/10 runs · ETA 14 s · rest · load`);
    expect(err()).toContain('[3/10] rest · baseline 410 orders/s, p99 7.4 ms, invariants OK\n');
    const uncoloured = err().replaceAll(`${GREEN}${'█'.repeat(9)}${RESET}`, '');
    expect(uncoloured).not.toMatch(SGR);
  });

  it('with NO_COLOR set: the same bar and line, and no colour escape at all', () => {
    const { io, err } = terminal();
    drawThreeOfTen(io, { NO_COLOR: '1' });
    expect(err()).toContain(`${'█'.repeat(9)}${'░'.repeat(21)} 3/10 runs · ETA 14 s · rest · load`);
    expect(err()).toContain('[3/10] rest · baseline 410 orders/s, p99 7.4 ms, invariants OK\n');
    expect(err()).not.toMatch(SGR);
  });
});
