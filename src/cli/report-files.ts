import type { ResultsDocument } from '../bench/results.js';
import { renderCharts } from '../report/charts/index.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';

/**
 * Every file of a results folder: results.json, the charts as SVG files, report.md (which
 * embeds them by file name, as GitHub renders it) and report.html (charts inlined, offline).
 */
export async function reportFiles(doc: ResultsDocument): Promise<Record<string, string>> {
  const charts = await renderCharts(doc);
  const files: Record<string, string> = { 'results.json': `${JSON.stringify(doc, null, 2)}\n` };
  for (const chart of charts) files[`${chart.id}.svg`] = chart.svg;
  files['report.md'] = renderMarkdown(doc, { charts: charts.map((c) => ({ id: c.id, title: c.title, file: `${c.id}.svg` })) });
  files['report.html'] = renderHtml(doc, charts);
  return files;
}
