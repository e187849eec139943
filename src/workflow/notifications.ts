import { effectClock, TimeColumn, type Clock } from './clock.js';
import type { SnapshotPacker } from './packed-snapshot.js';
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
  private readonly sent = new Map<string, TerminalStatus>();
  /** When each (in `sent`'s order) was sent: one number each, so bounded by the state itself. */
  private readonly sentAt: TimeColumn;
  private duplicates = 0;

  constructor(clock: Clock = effectClock()) {
    this.sentAt = new TimeColumn(clock);
  }

  notify(orderId: string, status: TerminalStatus): void {
    if (this.sent.has(orderId)) {
      this.duplicates++;
      return;
    }
    this.sent.set(orderId, status);
    this.sentAt.stamp();
  }

  snapshot(): NotificationsSnapshot {
    const log: NotificationRecord[] = [];
    let i = 0;
    for (const [orderId, status] of this.sent) {
      const at = this.sentAt.at(i++);
      if (at !== undefined) log.push({ orderId, status, at });
    }
    return { sent: this.sent.size, duplicates: this.duplicates, log };
  }

  /** The same packed, straight from the state: no object per notification (see packed-snapshot.ts). */
  packInto(packer: SnapshotPacker): void {
    let i = 0;
    for (const [orderId, status] of this.sent) {
      const at = this.sentAt.at(i++);
      if (at !== undefined) packer.notification(orderId, status, at);
    }
    packer.notifications({ sent: this.sent.size, duplicates: this.duplicates, log: true });
  }
}
