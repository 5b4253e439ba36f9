import type { LockRepository } from './lock-repository.js';
import type { Viewer } from './lock.js';

/**
 * How long a node keeps presence to itself before writing it: agents on other nodes see a newly opened
 * ticket's viewer at most this much later. Agents on this node see it at once.
 */
export const PRESENCE_FLUSH_MS = 2_000;

/**
 * Presence ("who has this ticket open") is recorded on every page view and every poll of every open page;
 * written one by one it was a write per view. It is kept here instead and written in one statement per
 * PRESENCE_FLUSH_MS for all tickets, and this node's readers see it merged with what other nodes wrote.
 */
export class PresenceBuffer {
  private readonly pending = new Map<string, { ticketId: number; viewer: Viewer }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: LockRepository,
    private readonly flushMs = PRESENCE_FLUSH_MS,
  ) {}

  record(ticketId: number, viewer: Viewer): void {
    this.pending.set(`${ticketId}:${viewer.staffId}`, { ticketId, viewer });
    // Unref'd: a process with nothing else to do need not wait for it; shutdown flushes instead.
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** The agent left the ticket: nothing of theirs still waiting may bring their presence back. */
  forget(ticketId: number, staffId: number): void {
    this.pending.delete(`${ticketId}:${staffId}`);
  }

  /** Presence on this ticket recorded here but perhaps not written yet. */
  unwritten(ticketId: number): Viewer[] {
    return [...this.pending.values()].filter((p) => p.ticketId === ticketId).map((p) => p.viewer);
  }

  /**
   * Writes what is pending. A failed write (the database away) puts it back unless newer presence came in
   * meanwhile: presence is a hint that lapses by itself, so it is retried with the next recording, not logged.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending.size) return;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    try {
      await this.repo.touchPresenceMany(batch.map(([, p]) => ({ ticketId: p.ticketId, staffId: p.viewer.staffId, seenAt: p.viewer.seenAt })));
    } catch {
      for (const [key, p] of batch) if (!this.pending.has(key)) this.pending.set(key, p);
    }
  }
}
