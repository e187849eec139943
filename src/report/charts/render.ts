import type { TopLevelSpec } from 'vega-lite';

/** vega and vega-lite, loaded on the first chart: commands that draw none start ~0.4 s sooner. */
const libraries = async () => Promise.all([import('vega'), import('vega-lite')]);

/** Every chart's look: fixed fonts and sizes readable on a projector, no web fonts. */
export const CHART_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', gridColor: '#eee' },
  legend: { labelFontSize: 12, titleFontSize: 13, orient: 'right', labelLimit: 240 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  title: { fontSize: 16, anchor: 'start', offset: 10 },
  range: { category: { scheme: 'tableau10' } },
} as const;

/** A vega-lite spec as pattern-bench writes it: the shared config and a title added. */
export type ChartSpec = TopLevelSpec;

/**
 * Compile a Vega-Lite spec and render it to an SVG string, headless (no canvas, no DOM).
 * Data must be inline: the loader refuses every URL, so a chart renders offline or not at all.
 */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, { compile }] = await libraries();
  const compiled = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const loader = vega.loader();
  const refuse = (uri: string) => Promise.reject(new Error(`charts render offline; refused to load ${uri}`));
  loader.load = refuse;
  loader.sanitize = refuse;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
