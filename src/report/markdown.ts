import { markdownTable } from 'markdown-table';
import type { ResultsDocument } from '../bench/results.js';
import { PLACEMENT_DESCRIPTIONS } from '../placement/types.js';
import { describePolicy, RESILIENCE_POLICIES } from '../resilience/policies.js';
import { ASYNC_COLUMNS, FAILURE_COLUMNS, hasAsyncFigures, OUTCOME_COLUMNS, PERFORMANCE_COLUMNS, saturationNotes, type Column } from './columns.js';
import { fmtPercent, fmtInt, fmtMs } from './format.js';
import { observe } from './observations.js';
import { invariantVerdict, summarize, type SummaryRow } from './summary.js';

function table(columns: readonly Column[], rows: readonly SummaryRow[]): string {
  // Pipes inside cells would split them.
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return markdownTable([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => esc(c.cell(r))))], {
    align: columns.map((c) => (c.align === 'right' ? 'r' : 'l')),
  });
}

function loadLine(doc: ResultsDocument): string {
  const { load } = doc.config;
  if (load.kind === 'closed') return `closed loop, ${load.concurrency} concurrent orders`;
  if (load.kind === 'open') return `open loop, ${fmtInt(load.rate)} orders/s`;
  return `open loop at ${fmtPercent(load.fraction)} of the slowest pattern's capacity`;
}

/**
 * The report for a room of people: environment and config in one block, the tables, the
 * generated observations, and each pattern's trade-offs beside what this run measured.
 * Renders on GitHub as it is.
 */
export function renderMarkdown(doc: ResultsDocument): string {
  const rows = summarize(doc);
  const { config: c, environment: e } = doc;
  const out: string[] = [];
  out.push('# pattern-bench report', '');
  if (doc.state === 'aborted') out.push('> **This run was aborted** before it finished; the numbers below cover only what completed.', '');
  out.push(
    '```',
    `machine   ${e.cpus} × ${e.cpuModel}, ${e.totalMemoryGiB} GiB, ${e.platform} ${e.arch}, Node.js ${e.node}`,
    `load      ${loadLine(doc)}; ${c.warmupMs / 1000} s warm-up + ${c.durationMs / 1000} s measured; ${c.trials} trial(s); seed ${c.seed}`,
    `orders    ${Math.round(c.generator.outOfStockShare * 100)}% ask for a scarce SKU, ${Math.round(c.generator.declineShare * 100)}% from customers who cannot pay`,
    `patterns  ${c.patterns.join(', ')}`,
    `scenarios ${c.scenarios.join(', ')}`,
    `placement ${c.placement}: ${PLACEMENT_DESCRIPTIONS[c.placement] ?? 'unknown placement'}`,
    `broker    ${c.broker}; event store ${c.eventStore}`,
    `run       ${doc.startedAt} → ${doc.finishedAt} (${doc.tool.name} ${doc.tool.version}, results schema ${doc.schemaVersion})`,
    '```',
    '',
  );
  out.push('## Throughput and latency', '', table(PERFORMANCE_COLUMNS, rows), '');
  out.push(
    'Latency is from the moment an order was placed until it reached its terminal state (CONFIRMED or CANCELLED); ' +
      '*accept* is until the system took it, for patterns that answer before the work is done.',
    '',
  );
  out.push('## Outcomes, invariants and cost', '', table(OUTCOME_COLUMNS, rows), '');
  out.push(
    '*CPU µs/order*: CPU time per completed order of the system’s threads, then of the load generator’s thread ' +
      '(*together* when they share one thread; *process* where the platform cannot tell one thread’s CPU, as outside Linux). *busiest thread*: the system thread whose event loop was busiest, and how busy. ' +
      '*generator busy*: the load generator’s event loop.',
    '',
  );
  const saturated = saturationNotes(rows);
  if (saturated.length > 0) out.push(...saturated.map((n) => `> ${n}`), '');
  const asyncRows = rows.filter(hasAsyncFigures);
  if (asyncRows.length > 0) {
    out.push('## Queues, event logs and sagas', '', table(ASYNC_COLUMNS, asyncRows), '');
    out.push(
      '*backlog*: most messages waiting at once, and the time to empty the queues once the load stopped. ' +
        '*projection lag*: from an event’s append to the read model showing it. ' +
        '*compensated*: from the failed step to the last compensation done.',
      '',
    );
  }
  const faulted = rows.filter((r) => r.failure);
  if (faulted.length > 0) {
    out.push('## Failure behaviour', '', table(FAILURE_COLUMNS, faulted), '');
    out.push(
      '*success*: orders that reached a business outcome (confirmed or cancelled) rather than failing. ' +
        '*p99 before→during*: orders started before the fault vs during it, in the same run. ' +
        '*recovered in*: from the end of the fault until failures were back to the level before it.',
      '',
    );
    for (const scenario of [...new Set(faulted.map((r) => r.scenario))]) {
      const s = doc.scenarios?.find((x) => x.id === scenario);
      const played = faulted.find((r) => r.scenario === scenario)?.failure?.played ?? [];
      out.push(`**${s?.title ?? scenario}** — ${s?.description ?? ''}${played.length > 0 ? ` Played (first pattern): ${played.join('; ')}.` : ''}`, '');
    }
  }

  const observations = observe(rows);
  if (observations.length > 0) out.push('## Observations', '', ...observations.map((o) => `- ${o}`), '');

  const errored = rows.flatMap((r) => r.errors.map((err) => `- **${r.pattern}** / ${r.scenario}, trial ${err.trial}: \`${err.code}\` ${err.message}`));
  if (errored.length > 0) out.push('## Errored runs', '', ...errored, '');

  const cards = doc.patterns ?? [];
  const resilient = cards.filter((p) => p.resilient).map((p) => p.id);
  const own = cards.filter((p) => p.ownPolicy && p.ownPolicy.length > 0);
  if (resilient.length > 0 || own.length > 0) {
    const policy = RESILIENCE_POLICIES[c.resilience];
    out.push('## Resilience policies', '');
    if (resilient.length > 0) {
      out.push(
        `\`--resilience ${policy.name}\` wraps the synchronous hops of ${resilient.join(', ')} (cockatiel; retries reuse the orderId, so no retry double-charges):`,
        '',
        ...describePolicy(policy).map((line) => `- ${line}`),
        '',
      );
    }
    for (const p of own) out.push(`${p.id} has a retry policy of its own; under \`--resilience ${policy.name}\`:`, '', ...(p.ownPolicy ?? []).map((line) => `- ${line}`), '');
  }

  out.push('## The patterns', '');
  for (const pattern of cards) {
    const id = pattern.id;
    out.push(`### ${pattern.title} (\`${pattern.id}\`)`, '', pattern.summary, '');
    const measured = rows.filter((r) => r.pattern === id);
    for (const r of measured) {
      const t = r.transport;
      out.push(
        `*Measured (${r.scenario}):* ${fmtInt(r.achieved?.median)} orders/s, p50 ${fmtMs(r.latencyMs?.p50)} ms, p99 ${fmtMs(r.latencyMs?.p99)} ms` +
          (t ? `; ${t.protocol}, ${t.encoding} encoding${t.broker ? `, broker ${t.broker}` : ''}; placement ${t.placement}` : '') +
          `; invariants ${invariantVerdict(r.invariants)}.`,
        '',
      );
    }
    const notes = measured[0]?.transport?.notes ?? [];
    if (notes.length > 0) out.push(`*Where this pattern differs:* ${notes.join('; ')}.`, '');
    out.push(
      '| pros | cons |',
      '| --- | --- |',
      ...zip(pattern.tradeOffs.pros, pattern.tradeOffs.cons).map(([p, k]) => `| ${p} | ${k} |`),
      '',
      `**When to use:** ${pattern.tradeOffs.whenToUse}`,
      '',
    );
  }
  return out.join('\n');
}

function zip(a: readonly string[], b: readonly string[]): [string, string][] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => [a[i] ?? '', b[i] ?? '']);
}
