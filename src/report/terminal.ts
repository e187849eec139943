import Table from 'cli-table3';

/** The width the terminal tables and notes fit by default, in columns (box-drawing included). */
export const TERMINAL_WIDTH = 100;

/** How the terminal output is laid out: condensed to `width` columns (default), or the full tables (`wide`). */
export interface TerminalOptions {
  /** The full tables as the markdown report has them, whatever their width. Default false. */
  readonly wide?: boolean;
  /** Columns every line fits when not wide. Default TERMINAL_WIDTH. */
  readonly width?: number;
}

export type Align = 'left' | 'right';

/** Display width of the widest line: every character the tables use is one column wide. */
export function textWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map((l) => [...l].length));
}

/** A plain cli-table3 table (no colour codes). */
export function textTable(head: readonly string[], align: readonly Align[], rows: readonly (readonly string[])[]): string {
  const table = new Table({ head: [...head], colAligns: [...align], style: { head: [], border: [] } });
  for (const row of rows) table.push([...row]);
  return table.toString();
}

/**
 * A table that fits `width`: the columns after the first `keys` (pattern, scenario…) go in
 * order into as few tables as fit, each repeating the key columns. Cells never wrap; a
 * single column too wide for `width` with the keys still gets its own table.
 */
export function fitTable(
  head: readonly string[],
  align: readonly Align[],
  rows: readonly (readonly string[])[],
  keys: number,
  width: number = TERMINAL_WIDTH,
): string {
  const render = (cols: readonly number[]) =>
    textTable(
      cols.map((c) => head[c] ?? ''),
      cols.map((c) => align[c] ?? 'left'),
      rows.map((r) => cols.map((c) => r[c] ?? '')),
    );
  const keyCols = Array.from({ length: Math.min(keys, head.length) }, (_, i) => i);
  const groups: number[][] = [];
  let current = [...keyCols];
  for (let c = keyCols.length; c < head.length; c++) {
    const next = [...current, c];
    if (current.length > keyCols.length && textWidth(render(next)) > width) {
      groups.push(current);
      current = [...keyCols, c];
    } else current = next;
  }
  groups.push(current);
  return groups.map(render).join('\n');
}

/**
 * `text` word-wrapped to `width` columns; lines after the first are indented by the text's
 * own leading spaces plus `hang`. A word longer than a line stays whole.
 */
export function wrap(text: string, width: number = TERMINAL_WIDTH, hang = 2): string[] {
  const lead = /^ */.exec(text)?.[0] ?? '';
  const words = text.slice(lead.length).split(/ +/).filter((w) => w !== '');
  const indent = lead + ' '.repeat(hang);
  const lines: string[] = [];
  let line = lead;
  let empty = true;
  for (const word of words) {
    if (!empty && [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = indent + word;
    } else line = empty ? line + word : `${line} ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
