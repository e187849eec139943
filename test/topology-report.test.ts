/** The reports say where the system ran: under --topology processes, in processes (not the placement's worker threads). */
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_DESCRIPTIONS } from '../src/placement/types.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { placementLine } from '../src/report/table.js';
import { completedRun, resultsDoc } from './support/results.js';

const PROCESSES = TOPOLOGY_DESCRIPTIONS.processes;

describe('topology in the reports', () => {
  const processes = resultsDoc([completedRun()], { topology: 'processes' });
  const threads = resultsDoc([completedRun()], { placement: 'per-service' });

  it('the terminal placement line', () => {
    expect(placementLine(processes)).toBe(`Placement: per-service, topology processes — ${PROCESSES}`);
    expect(placementLine(threads)).toBe('Placement: per-service — each service, the broker, each processor and the orchestrator on a worker thread of its own; the load generator on the main thread');
  });

  it('report.md and report.html', () => {
    expect(renderMarkdown(processes)).toContain(`placement per-service, topology processes: ${PROCESSES}\n`);
    expect(renderMarkdown(threads)).not.toContain('topology');
    expect(renderHtml(processes)).toContain('<p class="meta">Placement per-service, topology processes: each service, the broker');
  });

  it('a document from before --topology reads as threads', () => {
    const { topology: _, ...config } = threads.config;
    expect(placementLine({ ...threads, config: config as typeof threads.config })).toBe(placementLine(threads));
  });
});
