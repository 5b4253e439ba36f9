import type { EventRepository } from '../history/event-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import { AppError, notFound } from '../errors.js';
import type { LockService } from '../locks/lock-service.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { ThreadEntry, ThreadRepository } from '../threads/thread-repository.js';
import type { UserService } from '../users/user-service.js';
import type { CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRepository } from './ticket-repository.js';
import type { TicketService } from './ticket-service.js';
import type { Ticket } from './ticket.js';
import type { SearchIndex } from '../search/search-index.js';

export interface NonParticipantEntryDeps {
  db: Database;
  clock: Clock;
  tickets: TicketService;
  ticketRepo: TicketRepository;
  threads: ThreadRepository;
  users: UserService;
  collaborators: CollaboratorRepository;
  audit: AuditRepository;
  locks: LockService;
  events: EventRepository;
  search: SearchIndex;
}

/**
 * An agent's decision about a mail that threaded onto a ticket from someone not on it (DESIGN.md §11): the
 * sender belongs (add them as a collaborator), or the mail is a matter of its own (move it to a new ticket
 * with the sender as requester). Either way the entry stops being flagged, and the audit log says who decided.
 * An agent's split (issue 10, item 8) moves any message the same way, keeping the ticket's requester.
 */
export class NonParticipantEntryService {
  constructor(private readonly d: NonParticipantEntryDeps) {}

  /** The flagged entry on a ticket the agent may see; anything else answers as not found. */
  private async flagged(actor: StaffPrincipal, number: string, entryId: number): Promise<{ ticket: Ticket; entry: ThreadEntry & { senderEmail: string } }> {
    const ticket = await this.d.tickets.get(actor, number);
    const entry = await this.d.threads.get(entryId);
    if (!entry || entry.ticketId !== ticket.id) throw notFound('ENTRY_NOT_FOUND', 'errors.entry.not_found');
    if (!entry.fromNonParticipant || !entry.senderEmail) throw new AppError('ENTRY_NOT_FLAGGED', 'conflict', 'errors.entry.not_flagged');
    return { ticket, entry: { ...entry, senderEmail: entry.senderEmail } };
  }

  async addSenderAsCollaborator(actor: StaffPrincipal, number: string, entryId: number): Promise<void> {
    await this.d.db.transaction(async () => {
      const { ticket, entry } = await this.flagged(actor, number, entryId);
      const user = await this.d.users.findOrCreate(entry.authorName, entry.senderEmail);
      const now = this.d.clock.now();
      await this.d.collaborators.add(ticket.id, user.id, now);
      await this.d.search.fields([ticket.id]);
      await this.d.threads.clearNonParticipant(entry.id);
      await this.d.ticketRepo.update(ticket.id, { updatedAt: now });
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.collaborator_add', objectType: 'ticket', objectId: ticket.id, details: { number, email: user.email, entryId } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind: 'collaborator_added', data: { name: user.name, email: user.email } });
    });
  }

  /** Opens a ticket in the same department with the sender as requester, and moves the entry there. */
  async moveToNewTicket(actor: StaffPrincipal, number: string, entryId: number): Promise<{ number: string }> {
    return this.d.db.transaction(async () => {
      const { ticket, entry } = await this.flagged(actor, number, entryId);
      const user = await this.d.users.findOrCreate(entry.authorName, entry.senderEmail);
      return this.intoNewTicket(actor, ticket, entry, user.id, 'email');
    });
  }

  /**
   * "Split into a new ticket": a message of the ticket, with its files, becomes a ticket of its own for the
   * same requester and department. The ticket keeps at least one entry; someone else's lock refuses it.
   */
  async split(actor: StaffPrincipal, number: string, entryId: number): Promise<{ number: string }> {
    return this.d.db.transaction(async () => {
      const ticket = await this.d.tickets.get(actor, number);
      const entry = await this.d.threads.get(entryId);
      if (!entry || entry.ticketId !== ticket.id) throw notFound('ENTRY_NOT_FOUND', 'errors.entry.not_found');
      if (entry.type !== 'message') throw new AppError('SPLIT_REFUSED', 'conflict', 'errors.entry.split_not_message');
      if (!(await this.d.threads.idsAfter(ticket.id, 0)).some((id) => id !== entry.id)) throw new AppError('SPLIT_REFUSED', 'conflict', 'errors.entry.split_only_entry');
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      const created = await this.intoNewTicket(actor, ticket, entry, ticket.userId, ticket.source);
      return { number: created.number };
    });
  }

  private async intoNewTicket(actor: StaffPrincipal, ticket: Ticket, entry: ThreadEntry, userId: number, source: Ticket['source']): Promise<{ id: number; number: string }> {
    const now = this.d.clock.now();
    const created = await this.d.ticketRepo.insertNumbered({
      subject: ticket.subject, userId, departmentId: ticket.departmentId, topicId: ticket.topicId, assigneeId: null,
      priority: ticket.priority, source, createdAt: now, mailboxId: ticket.mailboxId,
    });
    await this.d.threads.moveEntry(entry.id, created.id);
    // The moved entry's tokens moved with it; the new ticket's own are its requester's.
    await this.d.search.fields([created.id]);
    await this.d.ticketRepo.update(ticket.id, { updatedAt: now });
    const { number } = ticket;
    await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.entry_move', objectType: 'ticket', objectId: ticket.id, details: { number, entryId: entry.id, toNumber: created.number } });
    await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.create', objectType: 'ticket', objectId: created.id, details: { number: created.number, source, fromNumber: number, entryId: entry.id } });
    await this.d.events.record(
      { ticketId: ticket.id, actor, kind: 'entry_moved_out', data: { number: created.number } },
      { ticketId: created.id, actor, kind: 'entry_moved_in', data: { number } },
    );
    return created;
  }
}
