import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import type { TracedJourney } from '../src/bench/results.js';
import { traceJourneys } from '../src/bench/trace.js';
import { main, type CliIo } from '../src/cli.js';
import { PATTERNS } from '../src/patterns/registry.js';
import { renderJourneyMermaid } from '../src/report/journey.js';
import { injectTrace, isTracing, withSpan } from '../src/tracing/index.js';

/**
 * A small parser of Mermaid's sequenceDiagram rules, as far as the renderer uses them:
 * the `sequenceDiagram` header, `participant <id>` lines, `A->>B: text` messages,
 * `Note over A: text` and `%%` comments. Every participant a message or note uses must be declared first.
 */
function parseSequenceDiagram(source: string): { participants: string[]; messages: { from: string; to: string; text: string }[] } {
  const lines = source.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('%%'));
  if (lines[0] !== 'sequenceDiagram') throw new Error(`expected the sequenceDiagram header, got ${JSON.stringify(lines[0])}`);
  const participants: string[] = [];
  const messages: { from: string; to: string; text: string }[] = [];
  const declared = (id: string, line: string) => {
    if (!participants.includes(id)) throw new Error(`undeclared participant ${id} in ${JSON.stringify(line)}`);
  };
  for (const line of lines.slice(1)) {
    let m: RegExpMatchArray | null;
    if ((m = /^participant ([A-Za-z_][A-Za-z0-9_]*)$/.exec(line))) {
      if (messages.length > 0) throw new Error(`participant declared after the first message: ${line}`);
      participants.push(m[1] as string);
    } else if ((m = /^([A-Za-z_][A-Za-z0-9_]*)->>([A-Za-z_][A-Za-z0-9_]*): ([^;#]+)$/.exec(line))) {
      declared(m[1] as string, line);
      declared(m[2] as string, line);
      messages.push({ from: m[1] as string, to: m[2] as string, text: m[3] as string });
    } else if ((m = /^Note over ([A-Za-z_][A-Za-z0-9_]*): ([^;#]+)$/.exec(line))) {
      declared(m[1] as string, line);
    } else throw new Error(`not a sequenceDiagram statement: ${JSON.stringify(line)}`);
  }
  return { participants, messages };
}

/** The diagrams of a `--format mermaid` output (each in a ```mermaid fence). */
function diagrams(output: string): string[] {
  return [...output.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

function capture(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => (out += t), err: (t) => (err += t), interactive: false, stdout: () => out, stderr: () => err };
}

describe('tracing off', () => {
  it('carries nothing and opens no span without a tracer provider', () => {
    expect(isTracing()).toBe(false);
    expect(injectTrace()).toBeUndefined();
    const carrier = { 'content-type': 'application/json' };
    expect(injectTrace(carrier)).toEqual({ 'content-type': 'application/json' });
    expect(withSpan('x', { service: 'orders', operation: 'op' }, () => trace.getActiveSpan())).toBeUndefined();
  });
});

describe('trace', () => {
  const traced = PATTERNS.filter((p) => p.id !== 'direct');
  let journeys: TracedJourney[] = [];

  it('every pattern but direct: spans of ≥ 3 services share the order\'s trace id', async () => {
    journeys = (await traceJourneys({ patterns: traced, outcomes: ['confirmed', 'out-of-stock'], seed: 42 })).map((t) => t.journey);
    // Unregistered again: the API is a no-op after the run.
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(journeys.map((j) => `${j.pattern}:${j.outcome}`)).toEqual(traced.flatMap((p) => [`${p.id}:confirmed`, `${p.id}:out-of-stock`]));
    for (const j of journeys) {
      expect(j.state, `${j.pattern} ${j.outcome}`).toBe('completed');
      expect(j.spans.every((s) => s.traceId === j.traceId)).toBe(true);
      const services = new Set(j.spans.map((s) => s.service));
      expect(services.size, `${j.pattern} ${j.outcome}: ${[...services].join(',')}`).toBeGreaterThanOrEqual(3);
      expect(j.spans[0]?.service).toBe('client');
      // Every span but the root is a child of a span of the same journey.
      const ids = new Set(j.spans.map((s) => s.spanId));
      for (const s of j.spans.slice(1)) expect(ids.has(s.parentSpanId ?? ''), `${j.pattern} ${s.name}`).toBe(true);
    }
    const compensated = journeys.filter((j) => j.outcome === 'out-of-stock');
    for (const j of compensated) {
      if (j.state === 'completed') expect(j.result).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    }
  }, 120_000);

  it("event sourcing's client waits for the outcome at the command side, after its PlaceOrder, while the projection applies the events", () => {
    const es = journeys.find((j) => j.pattern === 'event-sourcing' && j.outcome === 'confirmed');
    const orders = (es?.spans ?? []).filter((s) => s.service === 'orders').map((s) => s.operation);
    expect(orders).toEqual(['POST /orders', 'GET /orders/:id?wait']);
    expect(es?.spans.some((s) => s.service === 'projection')).toBe(true);
  });

  it('renders a Mermaid sequenceDiagram per pattern that parses', () => {
    const out = renderJourneyMermaid(journeys);
    const parsed = diagrams(out).map(parseSequenceDiagram);
    expect(parsed).toHaveLength(traced.length);
    for (const d of parsed) {
      expect(d.participants).toContain('client');
      expect(d.messages.length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('pattern-bench trace', () => {
  it('prints a sequenceDiagram for rest', async () => {
    const io = capture();
    expect(await main(['trace', '--patterns', 'rest', '--format', 'mermaid'], io)).toBe(0);
    const [diagram, ...more] = diagrams(io.stdout());
    expect(more).toEqual([]);
    const parsed = parseSequenceDiagram(diagram ?? '');
    expect(parsed.participants).toEqual(['client', 'orders', 'payments', 'inventory', 'notifications']);
    expect(parsed.messages).toContainEqual(expect.objectContaining({ from: 'client', to: 'orders' }));
    expect(parsed.messages).toContainEqual(expect.objectContaining({ from: 'orders', to: 'payments' }));
    expect(io.stdout()).toContain('placement same-thread');
  }, 60_000);

  it('--scenario outage places the order inside the fault: the charge never lands, the order is cancelled and the refund is tried', async () => {
    const io = capture();
    expect(await main(['trace', '--patterns', 'rest', '--outcome', 'confirmed', '--scenario', 'outage', '--format', 'json'], io)).toBe(0);
    const { journeys } = JSON.parse(io.stdout()) as { journeys: TracedJourney[] };
    const [j] = journeys;
    expect(j?.result).toEqual({ status: 'CANCELLED', reason: 'downstream_error' });
    const ops = (j?.spans ?? []).map((s) => `${s.service} ${s.operation}`);
    expect(ops).not.toContain('payments POST /charges'); // payments was down: no charge reached it
    expect(ops).toContain('payments DELETE /charges'); // compensation: the refund lands once it is back
    expect(io.stderr()).toContain("each order placed inside outage's fault");
  }, 60_000);

  it('refuses a bad --outcome with exit 2 and one line', async () => {
    const io = capture();
    expect(await main(['trace', '--outcome', 'lost'], io)).toBe(2);
    expect(io.stderr()).toBe('pattern-bench: unknown value for --outcome: "lost" (known: confirmed, declined, out-of-stock)\n');
    expect(io.stdout()).toBe('');
  });

  it('refuses a bad --format with exit 2 and one line', async () => {
    const io = capture();
    expect(await main(['trace', '--format', 'svg'], io)).toBe(2);
    expect(io.stderr()).toBe('pattern-bench: unknown value for --format: "svg" (known: text, mermaid, json)\n');
  });
});
