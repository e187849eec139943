/**
 * A scenario is data: what happens to the system during the measurement window.
 * (Fault timelines plug in here; `baseline` has none.)
 */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** One sentence for `list` and the report. */
  readonly description: string;
}
