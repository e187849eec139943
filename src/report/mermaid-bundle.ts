/**
 * Mermaid's browser bundle, inlined into report.html so its sequence diagrams draw offline.
 * `dist/mermaid.min.js` is one IIFE with every diagram type inside: it loads no chunk and
 * fetches nothing (test/browser.test.ts records every request). Resolved from the installed
 * package, so it works from the source tree and from dist/ alike.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const BUNDLE = 'mermaid/dist/mermaid.min.js';

let cached: string | undefined;

/** The bundle's text, read on first use and kept for the process. */
export function mermaidBundle(): string {
  cached ??= inlineable(readFileSync(createRequire(import.meta.url).resolve(BUNDLE), 'utf8'));
  return cached;
}

/**
 * Inside <script>, `</script` ends the element and `<script` after `<!--` changes how the
 * parser finds the end: a bundle with either cannot be inlined as it is, so say so.
 */
function inlineable(js: string): string {
  const tag = /<\/?script/i.exec(js);
  if (tag) throw new Error(`${BUNDLE} contains "${tag[0]}" at ${tag.index}: it cannot be inlined into a <script> element as it is`);
  return js;
}

/**
 * Start-up for the page: draw every `<pre class="mermaid">` on load; `strict` keeps labels
 * as text (no HTML, no click handlers); `neutral` is black on white, which survives a projector.
 */
export const MERMAID_INIT = "mermaid.initialize({startOnLoad:true,securityLevel:'strict',theme:'neutral'});";
