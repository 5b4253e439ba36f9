import { randomBytes } from 'node:crypto';
import type { EventRepository } from '../history/event-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import { AppError, forbidden } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { Ticket } from '../tickets/ticket.js';
import type { LockRepository } from './lock-repository.js';
import { PresenceBuffer } from './presence-buffer.js';
import type { LockMode, LockState, LockedAction, TicketLock, Viewer } from './lock.js';

/** How recently an agent's page must have reported in to count as viewing the ticket. */
export const PRESENCE_WINDOW_MS = 30_000;
/** Notices nobody came back to read are dropped after this long. */
const NOTICE_TTL_MS = 24 * 3600_000;

export interface LockSettings {
  mode: LockMode;
  minutes: number;
  notesWhileLocked: boolean;
}

export interface LockServiceDeps {
  db: Database;
  clock: Clock;
  repo: LockRepository;
  audit: AuditRepository;
  events: EventRepository;
  settings: LockSettings;
  /** Resolves a ticket number for an agent, refusing tickets they may not see (TicketService.get). */
  findTicket: (actor: StaffPrincipal, number: string) => Promise<Ticket>;
}

/**
 * The conflict another agent's lock causes. The times are Dates: the web layer says them in the reader's
 * language and zone (lockMessage in web/staff/lock-routes.ts).
 */
export function lockHeldError(lock: TicketLock): AppError {
  return new AppError(
    'LOCK_HELD',
    'conflict',
    msg('staff.lock.held_error', { name: lock.holderName, since: lock.acquiredAt, until: lock.expiresAt }),
    { holderId: lock.staffId, holderName: lock.holderName, acquiredAt: lock.acquiredAt.toISOString(), expiresAt: lock.expiresAt.toISOString() },
  );
}

/**
 * Collision locks (DESIGN.md §4 "Collision locking"): one live lock per ticket, taken when an agent starts
 * answering, renewed while they compose, released when they post or leave. Presence (who has the ticket
 * open) rides along, since the same page polls for both.
 */
export class LockService {
  private readonly presence: PresenceBuffer;

  constructor(private readonly d: LockServiceDeps) {
    this.presence = new PresenceBuffer(d.repo);
  }

  get mode(): LockMode {
    return this.d.settings.mode;
  }

  /** Notes are refused while another agent holds the lock, by setting. */
  get notesLocked(): boolean {
    return !this.d.settings.notesWhileLocked;
  }

  /** Administrators, and managers of the ticket's department, may break another agent's lock. */
  canBreak(actor: StaffPrincipal, ticket: Pick<Ticket, 'departmentId'>): boolean {
    return actor.isAdmin || actor.managedDepartmentIds.includes(ticket.departmentId);
  }

  get lockMs(): number {
    return this.d.settings.minutes * 60_000;
  }

  private expiry(now: Date): Date {
    return new Date(now.getTime() + this.lockMs);
  }

  private async state(actor: StaffPrincipal, ticketId: number, withNotice: boolean): Promise<LockState> {
    const lock = await this.d.repo.live(ticketId, this.d.clock.now());
    const notice = withNotice ? await this.d.repo.takeNotice(ticketId, actor.staffId) : null;
    return { lock, mine: lock?.staffId === actor.staffId, notice };
  }

  /**
   * Takes the lock, or reports who holds it. A broken lock's notice is delivered here too. Every successful
   * call issues a new token (`lock.token`), even to an agent who held the lock already: the page that took it
   * last is the one whose leaving releases it.
   */
  async acquire(actor: StaffPrincipal, number: string): Promise<LockState> {
    const ticket = await this.d.findTicket(actor, number);
    const now = this.d.clock.now();
    const expiresAt = this.expiry(now);
    const token = randomBytes(16).toString('base64url');
    if ((await this.d.repo.claim(ticket.id, actor.staffId, now, expiresAt, token)) === 'new') {
      // Freshly inserted: the row is exactly what was written, no need to read it back.
      const lock = { ticketId: ticket.id, staffId: actor.staffId, holderName: actor.name, acquiredAt: now, expiresAt, token };
      return { lock, mine: true, notice: await this.d.repo.takeNotice(ticket.id, actor.staffId) };
    }
    return this.state(actor, ticket.id, true);
  }

  /**
   * Extends the agent's own lock. Never takes a lock from scratch: an agent whose lock was broken or taken
   * over learns so (with the notice, if an administrator broke it) and must choose to take it again.
   */
  async renew(actor: StaffPrincipal, number: string): Promise<LockState> {
    const ticket = await this.d.findTicket(actor, number);
    const now = this.d.clock.now();
    const renewed = await this.d.repo.renew(ticket.id, actor.staffId, now, this.expiry(now));
    // A notice only explains a lost lock; a renewal that worked has nothing to explain.
    return this.state(actor, ticket.id, !renewed);
  }

  /**
   * Gives up the agent's own lock if it is still the one `token` names; a lock taken since (by another page
   * of theirs) or anyone else's stays. No token, nothing to release: the page never held the lock.
   */
  async release(actor: StaffPrincipal, number: string, token: string | null | undefined): Promise<void> {
    const ticket = await this.d.findTicket(actor, number);
    if (token) await this.d.repo.release(ticket.id, actor.staffId, token);
  }

  /** The page is closing: it no longer holds the lock it names, and the agent no longer views the ticket. */
  async leave(actor: StaffPrincipal, number: string, token: string | null | undefined): Promise<void> {
    const ticket = await this.d.findTicket(actor, number);
    if (token) await this.d.repo.release(ticket.id, actor.staffId, token);
    this.presence.forget(ticket.id, actor.staffId);
    await this.d.repo.leavePresence(ticket.id, actor.staffId);
  }

  /**
   * Breaks another agent's lock: administrators, and managers of the ticket's department. Audited, and the
   * former holder is told on their next renewal. Null when there was no live lock to break.
   */
  async breakLock(actor: StaffPrincipal, number: string, ip: string | null = null): Promise<TicketLock | null> {
    const ticket = await this.d.findTicket(actor, number);
    if (!this.canBreak(actor, ticket)) {
      throw forbidden('LOCK_RELEASE_FORBIDDEN', 'staff.lock.release_forbidden');
    }
    const now = this.d.clock.now();
    const lock = await this.d.repo.live(ticket.id, now);
    if (!lock) return null;
    return this.d.db.transaction(async () => {
      // Deleting only the lock we read leaves one taken in between (by anyone, the holder too) alone.
      if (!(await this.d.repo.release(ticket.id, lock.staffId, lock.token))) return null;
      if (lock.staffId !== actor.staffId) {
        await this.d.repo.addNotice({ ticketId: ticket.id, staffId: lock.staffId, releasedById: actor.staffId, releasedByName: actor.name, releasedAt: now });
        await this.d.events.record({ ticketId: ticket.id, actor, kind: 'lock_released', data: { holderId: lock.staffId, holderName: lock.holderName } });
      }
      await this.d.audit.record({
        staffId: actor.staffId,
        action: 'ticket.lock_release',
        objectType: 'ticket',
        objectId: ticket.id,
        details: { number: ticket.number, holderId: lock.staffId, holderName: lock.holderName, acquiredAt: lock.acquiredAt.toISOString(), expiresAt: lock.expiresAt.toISOString() },
        ip,
      });
      return lock;
    });
  }

  /** The live lock on a ticket the caller has already been allowed to see. */
  liveLock(ticketId: number): Promise<TicketLock | null> {
    return this.d.repo.live(ticketId, this.d.clock.now());
  }

  /** Live locks for a page of a queue, keyed by ticket id. */
  liveLocks(ticketIds: number[]): Promise<Map<number, TicketLock>> {
    return this.d.repo.liveFor(ticketIds, this.d.clock.now());
  }

  /**
   * Refuses `action` on the ticket while someone else holds a live lock. Called by TicketService inside the
   * transaction that writes the change, so the check and the write commit together. Answers the agent's own
   * live lock, if they hold one (null when the ticket is free or the check does not apply).
   */
  async assertMayAct(actor: StaffPrincipal, ticketId: number, action: LockedAction): Promise<TicketLock | null> {
    if (action === 'note' && this.d.settings.notesWhileLocked) return null;
    const lock = await this.d.repo.live(ticketId, this.d.clock.now());
    if (lock && lock.staffId !== actor.staffId) throw lockHeldError(lock);
    return lock;
  }

  /** Posting a response ends the agent's turn: the lock the post was checked against (from assertMayAct). */
  async releaseAfterPost(lock: TicketLock): Promise<void> {
    await this.d.repo.release(lock.ticketId, lock.staffId, lock.token);
  }

  /** Records that the agent has the ticket open and answers who else has, with the lock as it stands now. */
  async touch(actor: StaffPrincipal, number: string): Promise<LockState & { viewers: Viewer[] }> {
    return this.see(actor, await this.d.findTicket(actor, number));
  }

  /**
   * `touch` for a ticket the caller has already been allowed to see (the ticket page). The agent's presence
   * is buffered (PresenceBuffer), not written now: other nodes see it within PRESENCE_FLUSH_MS.
   */
  async see(actor: StaffPrincipal, ticket: Pick<Ticket, 'id'>): Promise<LockState & { viewers: Viewer[] }> {
    const now = this.d.clock.now();
    this.presence.record(ticket.id, { staffId: actor.staffId, name: actor.name, seenAt: now });
    const since = new Date(now.getTime() - PRESENCE_WINDOW_MS);
    const { lock, viewers } = await this.d.repo.liveWithViewers(ticket.id, now, since);
    const latest = new Map<number, Viewer>();
    for (const v of [...viewers, ...this.presence.unwritten(ticket.id)]) {
      const known = latest.get(v.staffId);
      if (v.staffId !== actor.staffId && v.seenAt >= since && (!known || v.seenAt > known.seenAt)) latest.set(v.staffId, v);
    }
    const others = [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { lock, mine: lock?.staffId === actor.staffId, notice: null, viewers: others };
  }

  /** Writes the presence this node holds back; for shutdown, and before the purge counts what is stale. */
  flushPresence(): Promise<void> {
    return this.presence.flush();
  }

  /** Scheduler job: expired locks already stop counting; this only keeps the tables small. */
  async purgeExpired(): Promise<{ locks: number; notices: number; presence: number }> {
    await this.flushPresence();
    const now = this.d.clock.now().getTime();
    return {
      locks: await this.d.repo.purgeExpired(new Date(now)),
      notices: await this.d.repo.purgeNotices(new Date(now - NOTICE_TTL_MS)),
      presence: await this.d.repo.purgePresence(new Date(now - 10 * PRESENCE_WINDOW_MS)),
    };
  }
}
