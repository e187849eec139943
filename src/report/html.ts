import { marked } from 'marked';
import type { ResultsDocument } from '../bench/results.js';
import { renderMarkdown } from './markdown.js';

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:1200px;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px}
th{background:#f6f8fa}pre{background:#f6f8fa;padding:12px;overflow:auto}code{font-size:90%}`;

/** The markdown report as one self-contained HTML page (no scripts, no external assets). */
export function renderHtml(doc: ResultsDocument): string {
  const body = marked.parse(renderMarkdown(doc), { async: false, gfm: true });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pattern-bench report ${doc.startedAt}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}
