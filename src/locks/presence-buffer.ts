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
  /** By ticket, then agent: a page asks for its ticket's. */
  private pending = new Map<number, Map<number, Viewer>>();
  /** The batch being written: still this node's to show until the write is done. */
  private writing = new Map<number, Map<number, Viewer>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: LockRepository,
    private readonly flushMs = PRESENCE_FLUSH_MS,
  ) {}

  record(ticketId: number, viewer: Viewer): void {
    const viewers = this.pending.get(ticketId) ?? new Map<number, Viewer>();
    viewers.set(viewer.staffId, viewer);
    this.pending.set(ticketId, viewers);
    // Unref'd: a process with nothing else to do need not wait for it; shutdown flushes instead.
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** The agent left the ticket: nothing of theirs still waiting may bring their presence back. */
  forget(ticketId: number, staffId: number): void {
    this.pending.get(ticketId)?.delete(staffId);
  }

  /** Presence on this ticket recorded here but perhaps not written yet. */
  unwritten(ticketId: number): Viewer[] {
    return [...(this.writing.get(ticketId)?.values() ?? []), ...(this.pending.get(ticketId)?.values() ?? [])];
  }

  /**
   * Writes what is pending. A failed write (the database away) puts it back unless newer presence came in
   * meanwhile, for the next flush: presence is a hint that lapses by itself, so a failure is not logged.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = batch;
    const rows = [...batch].flatMap(([ticketId, viewers]) => [...viewers.values()].map((v) => ({ ticketId, staffId: v.staffId, seenAt: v.seenAt })));
    if (!rows.length) return;
    try {
      await this.repo.touchPresenceMany(rows);
    } catch {
      for (const [ticketId, viewers] of batch) {
        for (const v of viewers.values()) if (!this.pending.get(ticketId)?.has(v.staffId)) this.record(ticketId, v);
      }
    } finally {
      if (this.writing === batch) this.writing = new Map();
    }
  }
}
