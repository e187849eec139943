import type { TerminalStatus } from './types.js';

export interface NotificationsSnapshot {
  readonly sent: number;
  readonly duplicates: number;
}

/** Sends one notification per order (best effort: a lost one never changes the order). */
export class NotificationsService {
  private readonly sent = new Map<string, TerminalStatus>();
  private duplicates = 0;

  notify(orderId: string, status: TerminalStatus): void {
    if (this.sent.has(orderId)) {
      this.duplicates++;
      return;
    }
    this.sent.set(orderId, status);
  }

  snapshot(): NotificationsSnapshot {
    return { sent: this.sent.size, duplicates: this.duplicates };
  }
}
