/**
 * pattern-bench as a library: run the benchmark from code, render its results, or plug in
 * a pattern of your own.
 */
export { resolveRunConfig, DEFAULTS, type RunConfig, type RunOptionsInput } from './bench/config.js';
export { Runner, runBenchmark, type RunnerEvents, type RunPhase } from './bench/runner.js';
export { runLoad, type LoadShape, type LoadOptions, type LoadResult, type LoadTarget } from './bench/loadgen.js';
export type { ResultsDocument, RunResult, CompletedRun, ErroredRun, AbortedRun, Environment } from './bench/results.js';
export type { LatencySummary } from './metrics/histogram.js';
export { PATTERNS, DEFAULT_PATTERNS, getPattern } from './patterns/registry.js';
export type { Pattern, PatternContext, RunningPattern, TransportInfo, TradeOffs, WireMetered, Drainable } from './patterns/types.js';
export { checkInvariants, type InvariantReport, type InvariantInput } from './workflow/invariants.js';
export { OrderGenerator, type GeneratorOptions } from './workflow/generator.js';
export type { OrderRequest, OrderOutcome, OrderStatus } from './workflow/types.js';
export { renderMarkdown } from './report/markdown.js';
export { renderTables } from './report/table.js';
export { summarize, type SummaryRow } from './report/summary.js';
export { seededRandom, type Random } from './random.js';
export * from './errors.js';
