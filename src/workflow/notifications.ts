import { epochMs, type Clock } from './clock.js';
import type { TerminalStatus } from './types.js';

/** One notification sent: for which order, which status, when (epoch ms). */
export interface NotificationRecord {
  readonly orderId: string;
  readonly status: TerminalStatus;
  readonly at: number;
}

export interface NotificationsSnapshot {
  readonly sent: number;
  readonly duplicates: number;
  /** Every notification sent, where the pattern records them (one per order: bounded by the state itself). */
  readonly log?: readonly NotificationRecord[];
}

/** Sends one notification per order (best effort: a lost one never changes the order). */
export class NotificationsService {
  /** A record per order, or only its status without a clock. */
  private readonly sent = new Map<string, NotificationRecord | TerminalStatus>();
  private duplicates = 0;

  constructor(private readonly clock: Clock = epochMs) {}

  notify(orderId: string, status: TerminalStatus): void {
    if (this.sent.has(orderId)) {
      this.duplicates++;
      return;
    }
    this.sent.set(orderId, this.clock ? { orderId, status, at: this.clock() } : status);
  }

  snapshot(): NotificationsSnapshot {
    const log: NotificationRecord[] = [];
    for (const value of this.sent.values()) if (typeof value !== 'string') log.push(value);
    return { sent: this.sent.size, duplicates: this.duplicates, log };
  }
}
