import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { EventRepository } from '../history/event-repository.js';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { LockService } from '../locks/lock-service.js';
import type { Notifier } from '../mail/outbound/notifier.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { ThreadRepository } from '../threads/thread-repository.js';
import type { CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRelationsRepository } from './ticket-relations.js';
import { visibleOrNull } from './ticket-relations-service.js';
import type { TicketRepository } from './ticket-repository.js';
import type { TicketService } from './ticket-service.js';
import type { Ticket } from './ticket.js';
import type { SearchIndex } from '../search/search-index.js';

export interface TicketMergeDeps {
  db: Database;
  clock: Clock;
  tickets: TicketService;
  ticketRepo: TicketRepository;
  threads: ThreadRepository;
  collaborators: CollaboratorRepository;
  relations: TicketRelationsRepository;
  locks: LockService;
  notifier: Notifier;
  audit: AuditRepository;
  events: EventRepository;
  search: SearchIndex;
}

export interface MergeRequest {
  /** The ticket the agent started from: the others are merged with it. */
  number: string;
  /** The other tickets' numbers, as typed (spaces, commas, a leading #). */
  others: string;
  /** Which of them survives; the others are merged into it. */
  survivor: string;
  /** Tell the merged tickets' requesters where their conversation goes on. */
  notify: boolean;
}

/** How many tickets one merge takes at most: a merge is one transaction holding all of their rows. */
export const MERGE_MAX = 20;

const parseNumbers = (s: string) => [...new Set(s.split(/[\s,;]+/).map((n) => n.replace(/^#/, '')).filter(Boolean))];

/**
 * Merging tickets into one (issue 10, item 8). The merged tickets keep their rows and numbers as aliases of
 * the survivor (`merged_into_id`): their page redirects, and mail that names them (a signed Message-ID, a
 * `[#OLD]` subject) lands on the survivor (mail/inbound/threading.ts). Their entries move to the survivor
 * with their times and Message-IDs, so the thread interleaves by time and replies to old mail still thread.
 * All of it in one transaction: any refusal (a lock held by someone else, a ticket merged meanwhile) changes
 * nothing.
 */
export class TicketMerge {
  constructor(private readonly d: TicketMergeDeps) {}

  /**
   * The tickets a merge would join, the starting one first, each visible to the agent and not merged before.
   * Refusals are field errors on `others`, so the form shows them next to what was typed.
   */
  async candidates(actor: StaffPrincipal, number: string, others: string): Promise<Ticket[]> {
    const start = await this.d.tickets.get(actor, number);
    if (start.mergedIntoId) throw new ValidationError({ others: msg('validation.ticket.number_merged', { number: start.number }) });
    const numbers = parseNumbers(others);
    if (!numbers.length) throw new ValidationError({ others: 'validation.merge.numbers_required' });
    if (numbers.length >= MERGE_MAX) throw new ValidationError({ others: msg('validation.merge.too_many', { max: MERGE_MAX - 1 }) });
    const found: Ticket[] = [start];
    for (const n of numbers) {
      if (n === start.number) throw new ValidationError({ others: 'validation.merge.self' });
      const t = await visibleOrNull(this.d.tickets, actor, n);
      if (!t) throw new ValidationError({ others: msg('validation.ticket.number_unknown', { number: n }) });
      if (t.mergedIntoId) throw new ValidationError({ others: msg('validation.ticket.number_merged', { number: t.number }) });
      found.push(t);
    }
    return found;
  }

  /** Merges; answers the survivor's number. */
  async merge(actor: StaffPrincipal, r: MergeRequest): Promise<{ number: string; merged: string[] }> {
    return this.d.db.transaction(async () => {
      const all = await this.candidates(actor, r.number, r.others);
      const survivor = all.find((t) => t.number === r.survivor);
      if (!survivor) throw new ValidationError({ survivor: 'validation.merge.choose_survivor' });
      const merged = all.filter((t) => t.id !== survivor.id);
      // Every ticket's lock, checked in this transaction: someone else answering any of them stops the merge.
      for (const t of all) await this.d.locks.assertMayAct(actor, t.id, 'change');
      const now = this.d.clock.now();
      const ids = merged.map((t) => t.id);
      if (!(await this.d.relations.claimMerge(ids, survivor.id, now))) throw new AppError('MERGE_CONFLICT', 'conflict', 'errors.merge.changed');
      await this.d.threads.moveTicketEntries(ids, survivor.id);
      // Collaborators united: the merged tickets' requesters are copied on the survivor from now on.
      for (const t of merged) {
        const people = [t.userId, ...(await this.d.collaborators.list(t.id)).map((c) => c.userId)];
        for (const userId of people) if (userId !== survivor.userId) await this.d.collaborators.add(survivor.id, userId, now);
      }
      await this.d.relations.moveLinks(ids, survivor.id, now);
      for (const t of merged) await this.d.ticketRepo.update(t.id, { status: 'closed', closedAt: t.closedAt ?? now, updatedAt: now });
      // The merged tickets' entries moved with their tokens, and their own tokens (number, subject) find the
      // survivor (search-port.ts); the survivor's people changed.
      await this.d.search.fields([survivor.id]);
      const numbers = merged.map((t) => t.number);
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.merge', objectType: 'ticket', objectId: survivor.id, details: { number: survivor.number, merged: numbers } });
      await this.d.events.record({ ticketId: survivor.id, actor, kind: 'merged', data: { numbers } });
      for (const t of merged) {
        await this.d.events.record({ ticketId: t.id, actor, kind: 'merged_into', data: { number: survivor.number } });
        // The survivor's access link is signed for its own requester; another ticket's requester gets none.
        if (r.notify) await this.d.notifier.merged(t, survivor, t.userId === survivor.userId ? this.d.tickets.accessLink(survivor) : null);
      }
      return { number: survivor.number, merged: numbers };
    });
  }

  /** Where a merged ticket's number leads now: the survivor's number, or null for a ticket not merged. */
  async survivorOf(ticket: Ticket): Promise<string | null> {
    if (!ticket.mergedIntoId) return null;
    return (await this.d.ticketRepo.findBy({ id: ticket.mergedIntoId }))?.number ?? null;
  }
}

