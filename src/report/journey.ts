/**
 * Rendering of traced journeys (`pattern-bench trace`): pure functions from the journeys
 * to strings — a text table per order, a Mermaid sequence diagram per pattern, or JSON.
 * Structural types only: reports do not import the bench (architecture.md).
 */

/** A span as `trace` hands it over (src/bench/trace.ts `JourneySpan`). */
export interface JourneySpanView {
  readonly name: string;
  readonly service: string;
  readonly operation: string;
  readonly message?: string;
  readonly bytes?: number;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly error?: string;
}

export interface JourneyView {
  readonly pattern: string;
  readonly outcome: string;
  readonly orderId: string;
  readonly traceId: string;
  /** The thread placement the services ran under (results.json's journeys say; `trace` always runs same-thread). */
  readonly placement?: string;
  readonly spans: readonly JourneySpanView[];
  readonly state: 'completed' | 'errored';
  readonly result?: { readonly status: string; readonly reason?: string };
  readonly error?: { readonly code: string; readonly message: string };
}

/** Where every span came from, said once at the top of every rendering. */
export const PLACEMENT_NOTE = 'placement same-thread: every service ran on this process\'s main thread, so every span below was recorded here';

function ended(j: JourneyView): string {
  if (j.state === 'errored') return `errored: ${j.error?.code ?? ''}: ${j.error?.message ?? ''}`;
  return `${j.result?.status ?? '?'}${j.result?.reason ? ` (${j.result.reason})` : ''}`;
}

/** Distinct services that took part, in order of first appearance. */
export function servicesOf(j: JourneyView): string[] {
  return [...new Set(j.spans.map((s) => s.service))];
}

/** Every journey as a table: each span in start order with its service, operation, ms from the order's start and bytes. */
export function renderJourneyText(journeys: readonly JourneyView[]): string {
  const lines = [`Order journeys (${PLACEMENT_NOTE}).`];
  for (const j of journeys) {
    lines.push('', `${j.pattern} · ${j.outcome} · ${j.orderId} → ${ended(j)} · trace ${j.traceId} · ${j.spans.length} spans, ${servicesOf(j).length} services`);
    lines.push(`  ${'ms'.padStart(8)}  ${'service'.padEnd(14)}${'operation'.padEnd(34)}${'message'.padEnd(24)}${'bytes'.padStart(7)}`);
    const depth = depths(j.spans);
    for (const s of j.spans) {
      const op = `${'  '.repeat(depth.get(s.spanId) ?? 0)}${s.operation}`;
      lines.push(
        `  ${s.startMs.toFixed(2).padStart(8)}  ${s.service.padEnd(14)}${op.padEnd(34)}${(s.message ?? '').padEnd(24)}${(s.bytes === undefined ? '' : String(s.bytes)).padStart(7)}${s.error ? `  error: ${s.error}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function depths(spans: readonly JourneySpanView[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = new Map<string, number>();
  const of = (s: JourneySpanView, guard = 0): number => {
    const known = depth.get(s.spanId);
    if (known !== undefined) return known;
    const parent = s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId);
    const d = parent && guard < 64 ? of(parent, guard + 1) + 1 : 0;
    depth.set(s.spanId, d);
    return d;
  };
  for (const s of spans) of(s);
  return depth;
}

/** Mermaid participant ids: letters, digits and underscores. */
const participant = (service: string) => service.replace(/[^A-Za-z0-9_]/g, '_');
/**
 * Message text without what Mermaid reads as syntax (`;` ends a statement, `#` starts an
 * entity, `:` is fine) or what would end the markdown fence around it (a backtick).
 */
const text = (s: string) => s.replace(/[;#`\n]/g, ' ');

/** Distinct patterns of `journeys`, in order of first appearance. */
export function patternsOf(journeys: readonly JourneyView[]): string[] {
  return [...new Set(journeys.map((j) => j.pattern))];
}

/**
 * One pattern's Mermaid `sequenceDiagram` (the source, no fence): the services (and the
 * broker) as participants in order of first appearance, then each of its journeys after a
 * note naming the order and how it ended, each span a message from its parent's service to
 * its own, in span order. The confirmed and the compensated order share the diagram: at
 * most ~14 messages each (saga-choreography), and side by side in one picture the reader
 * sees where the compensated order leaves the confirmed one's path (the refund).
 */
export function renderPatternMermaid(pattern: string, journeys: readonly JourneyView[]): string {
  const mine = journeys.filter((j) => j.pattern === pattern);
  const services = [...new Set(mine.flatMap(servicesOf))];
  const lines = ['sequenceDiagram', `  %% ${pattern}`];
  for (const s of services) lines.push(`  participant ${participant(s)}`);
  for (const j of mine) lines.push(...journeyLines(j, services[0] ?? 'client'));
  return lines.join('\n');
}

/** A journey's note and messages; the root span (the client's own) has no sender and draws none. */
function journeyLines(j: JourneyView, fallback: string): string[] {
  const first = j.spans[0]?.service ?? fallback;
  const lines = [`  Note over ${participant(first)}: ${text(`${j.outcome} · ${j.orderId} → ${ended(j)}`)}`];
  const byId = new Map(j.spans.map((s) => [s.spanId, s]));
  for (const s of j.spans) {
    const parent = s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId);
    if (!parent) continue;
    const label = s.message && !s.operation.includes(s.message) ? `${s.operation} ${s.message}` : s.operation;
    lines.push(`  ${participant(parent.service)}->>${participant(s.service)}: ${text(`${label} (+${s.startMs.toFixed(1)} ms)`)}`);
  }
  return lines;
}

/** One Mermaid `sequenceDiagram` per pattern (renderPatternMermaid), each in a ```mermaid fence, under the placement note. */
export function renderJourneyMermaid(journeys: readonly JourneyView[]): string {
  const blocks = [`%% ${PLACEMENT_NOTE}`, ...patternsOf(journeys).map((p) => `\`\`\`mermaid\n${renderPatternMermaid(p, journeys)}\n\`\`\``)];
  return `${blocks.join('\n\n')}\n`;
}

/** The journeys as JSON, with the placement they were recorded under. */
export function renderJourneyJson(journeys: readonly JourneyView[]): string {
  return `${JSON.stringify({ placement: 'same-thread', note: PLACEMENT_NOTE, journeys }, null, 2)}\n`;
}
