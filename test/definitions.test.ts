/** Every term is defined once: DEFINITIONS, docs/measurement.md and the reports' legends say the same. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/bench/config.js';
import { definition, DEFINITIONS, definitionsLegend, definitionsMarkdown } from '../src/report/definitions.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { equalLoadDoc } from './support/figures.js';

const doc = readFileSync(new URL('../docs/measurement.md', import.meta.url), 'utf8');

/** The `##`/`###` headings of a markdown text, outside code fences, with the line each starts on. */
function headings(text: string): { level: number; title: string; line: number }[] {
  const lines = text.split('\n');
  const out: { level: number; title: string; line: number }[] = [];
  let fenced = false;
  lines.forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(#{2,3}) (.+)$/.exec(line);
    if (m) out.push({ level: (m[1] as string).length, title: m[2] as string, line: i });
  });
  return out;
}

/** The first paragraph after line `at`: the lines up to the next blank line. */
function paragraphAfter(text: string, at: number): string {
  const lines = text.split('\n').slice(at + 1);
  const start = lines.findIndex((l) => l.trim() !== '');
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines
    .slice(start, end === -1 ? undefined : end)
    .map((l) => l.trim())
    .join(' ');
}

const terms = DEFINITIONS.map((d) => d.term);

describe('DEFINITIONS', () => {
  it('names each term once', () => {
    expect(new Set(terms).size).toBe(terms.length);
    expect(terms).toEqual(expect.arrayContaining(['capacity', 'equal load', 'offered', 'achieved', 'latency', 'percentiles over trials', 'samples (n)', 'CPU per order', 'success', 'time to recover', 'scheduler lateness', 'knee']));
  });

  it('takes its numbers from the defaults', () => {
    expect(definition('capacity').text).toContain(`a closed loop of ${DEFAULTS.capacityConcurrency} orders in flight for ${DEFAULTS.capacityS} s per pattern (${DEFAULTS.quick.capacityS} s with --quick)`);
    expect(definition('equal load').text).toContain(`${DEFAULTS.equalLoadFraction * 100}% of the slowest selected pattern's capacity`);
    expect(definition('knee').text).toContain(`within the SLO (${DEFAULTS.sloMs} ms by default)`);
  });

  it('refuses a term it does not define', () => {
    expect(() => definition('throughput')).toThrow('no definition of "throughput"');
    expect(() => definitionsLegend(['knee', 'kneee'])).toThrow('no definition of "kneee"');
  });

  it('lists the terms asked for in its own order, for the terminal and for markdown', () => {
    expect(definitionsLegend(['knee', 'offered'])).toEqual(['Definitions', `  offered: ${definition('offered').text}`, `  knee: ${definition('knee').text}`]);
    expect(definitionsMarkdown(['achieved'])).toEqual([`- **achieved**: ${definition('achieved').text}`]);
  });
});

describe('docs/measurement.md', () => {
  const all = headings(doc);
  const definitionsAt = all.findIndex((h) => h.level === 2 && h.title === 'Definitions');
  const next = all.findIndex((h, i) => i > definitionsAt && h.level === 2);
  const section = all.slice(definitionsAt + 1, next === -1 ? undefined : next);

  it('has one heading per term, and no other heading in its definitions section', () => {
    expect(definitionsAt).toBeGreaterThan(-1);
    for (const term of terms) expect(all.filter((h) => h.title === term), term).toHaveLength(1);
    expect(section.map((h) => h.title)).toEqual(terms);
    expect(section.every((h) => h.level === 3)).toBe(true);
  });

  it('states each definition word for word under its heading', () => {
    for (const h of section) expect(paragraphAfter(doc, h.line), h.title).toBe(definition(h.title).text);
  });

  it('covers the measurement model: the phases, the loops, coordinated omission, the sweep, compare and thresholds', () => {
    const titles = all.filter((h) => h.level === 2).map((h) => h.title);
    expect(titles).toEqual(['The two phases', 'Open loop and closed loop', 'Coordinated omission', 'Warm-up, window and drain', 'Trials', 'Sweep and the knee', 'Comparing two runs', 'Thresholds', 'Definitions']);
    expect(doc).toContain("`pattern-bench run --threshold 'rest.p99<20ms'`");
    expect(doc).toContain('Mann–Whitney U');
    for (const code of ['0', '1', '2', '3', '130']) expect(doc).toMatch(new RegExp(`^\\| ${code} \\| `, 'm'));
  });
});

describe('the markdown report’s Definitions section', () => {
  it('lists every term with its definition, before the patterns', () => {
    const md = renderMarkdown(equalLoadDoc());
    const start = md.indexOf('\n## Definitions\n');
    const end = md.indexOf('\n## The patterns\n');
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const items = md.slice(start, end).split('\n').filter((l) => l.startsWith('- **'));
    expect(items).toEqual(DEFINITIONS.map((d) => `- **${d.term}**: ${d.text}`));
  });
});
