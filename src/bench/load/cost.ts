import { performance } from 'node:perf_hooks';

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

/** The window's cost: process CPU and the main event loop's utilization. */
export interface WindowCost {
  /** Process CPU time (all threads), µs. */
  readonly cpuMicros: number;
  readonly eventLoopUtilization: number;
}

/** The process's CPU time, as `process.cpuUsage` reads it (a test passes a clock of its own). */
export type CpuClock = (since?: NodeJS.CpuUsage) => NodeJS.CpuUsage;

/**
 * Reads the cost counters when the window opens and when it closes (timers from the start
 * of the load), telling `probe` at the same moments. A window that opened but whose
 * closing timer has not fired when the load ends (aborted, or a test's clock) closes then.
 */
export class CostMeter {
  private cpuStart: NodeJS.CpuUsage;
  private eluStart: Elu = performance.eventLoopUtilization();
  private cpu: NodeJS.CpuUsage | undefined;
  private elu: Elu | undefined;
  private opened = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    warmupMs: number,
    durationMs: number,
    private readonly probe?: { open(): void; close(): void },
    private readonly cpuUsage: CpuClock = (since) => process.cpuUsage(since),
  ) {
    this.cpuStart = cpuUsage();
    if (warmupMs <= 0) this.open();
    else this.timers.push(setTimeout(() => this.open(), warmupMs));
    this.timers.push(setTimeout(() => this.close(), warmupMs + durationMs));
  }

  /** Stop the timers; the readings over the window (closed now if it was still open). */
  finish(): WindowCost {
    for (const timer of this.timers) clearTimeout(timer);
    if (this.opened && !this.cpu) this.close();
    const cpu = this.cpu ?? this.cpuUsage(this.cpuStart);
    const elu = this.elu ?? performance.eventLoopUtilization(this.eluStart);
    return { cpuMicros: cpu.user + cpu.system, eventLoopUtilization: elu.utilization };
  }

  private open(): void {
    this.opened = true;
    this.cpuStart = this.cpuUsage();
    this.eluStart = performance.eventLoopUtilization();
    this.probe?.open();
  }

  private close(): void {
    if (this.cpu) return;
    this.cpu = this.cpuUsage(this.cpuStart);
    this.elu = performance.eventLoopUtilization(this.eluStart);
    this.probe?.close();
  }
}
