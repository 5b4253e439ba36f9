import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { EventRepository } from '../history/event-repository.js';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { LockService } from '../locks/lock-service.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { isEmail, normaliseEmail } from '../users/email.js';
import type { UserService } from '../users/user-service.js';
import type { CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRelations, TicketRelationsRepository } from './ticket-relations.js';
import type { SearchIndex } from '../search/search-index.js';
import type { TicketRepository } from './ticket-repository.js';
import type { TicketService } from './ticket-service.js';
import type { Ticket } from './ticket.js';

export interface TicketRelationsDeps {
  db: Database;
  clock: Clock;
  tickets: TicketService;
  ticketRepo: TicketRepository;
  users: UserService;
  collaborators: CollaboratorRepository;
  relations: TicketRelationsRepository;
  locks: LockService;
  audit: AuditRepository;
  events: EventRepository;
  search: SearchIndex;
}

/** The ticket if the agent may see it; null for a number that is no ticket of theirs. */
export async function visibleOrNull(tickets: TicketService, actor: StaffPrincipal, number: string): Promise<Ticket | null> {
  try {
    return await tickets.get(actor, number);
  } catch (err) {
    if (err instanceof AppError && err.code === 'TICKET_NOT_FOUND') return null;
    throw err;
  }
}

/** Limits a name typed for a new collaborator (the users table's column). */
const NAME_MAX = 120;

/**
 * Who is copied on a ticket, and which tickets are related: the agent's changes to both, each checked against
 * the ticket's lock, audited, and recorded in the ticket's history in the same transaction.
 */
export class TicketRelationsService {
  constructor(private readonly d: TicketRelationsDeps) {}

  /** What the ticket page lists (read with its extras: TicketView.relations); linked tickets the agent may not see are left out. */
  forPage(actor: StaffPrincipal, r: TicketRelations | undefined): TicketRelations {
    if (!r) return { collaborators: [], links: [], mergedFrom: [] };
    return { ...r, links: r.links.filter((l) => this.d.tickets.canStaffSee(actor, l)) };
  }

  private async change<T>(actor: StaffPrincipal, number: string, fn: (t: Ticket, now: Date) => Promise<T>): Promise<T> {
    return this.d.db.transaction(async () => {
      const ticket = await this.d.tickets.get(actor, number);
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      return fn(ticket, this.d.clock.now());
    });
  }

  /** A known user by address, or a new one with the name given (the address's local part when none). */
  async addCollaborator(actor: StaffPrincipal, number: string, input: { email: string; name: string }): Promise<{ email: string; added: boolean }> {
    const email = normaliseEmail(input.email);
    if (!isEmail(email)) throw new ValidationError({ collaboratorEmail: 'validation.email_invalid' });
    if (input.name.trim().length > NAME_MAX) throw new ValidationError({ collaboratorName: msg('validation.too_long', { max: NAME_MAX }) });
    return this.change(actor, number, async (ticket, now) => {
      if (email === ticket.requesterEmail) throw new ValidationError({ collaboratorEmail: 'validation.collaborator.is_requester' });
      const user = await this.d.users.findOrCreate(input.name, email);
      if (!(await this.d.collaborators.add(ticket.id, user.id, now))) return { email, added: false };
      await this.d.search.fields([ticket.id]);
      await this.d.ticketRepo.update(ticket.id, { updatedAt: now });
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.collaborator_add', objectType: 'ticket', objectId: ticket.id, details: { number, email } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind: 'collaborator_added', data: { name: user.name, email } });
      return { email, added: true };
    });
  }

  async removeCollaborator(actor: StaffPrincipal, number: string, userId: number): Promise<void> {
    await this.change(actor, number, async (ticket, now) => {
      const who = (await this.d.collaborators.list(ticket.id)).find((c) => c.userId === userId);
      if (!who || !(await this.d.collaborators.remove(ticket.id, userId))) throw new AppError('COLLABORATOR_NOT_FOUND', 'not_found', 'errors.collaborator.not_found');
      await this.d.search.fields([ticket.id]);
      await this.d.ticketRepo.update(ticket.id, { updatedAt: now });
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.collaborator_remove', objectType: 'ticket', objectId: ticket.id, details: { number, email: who.email } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind: 'collaborator_removed', data: { name: who.name, email: who.email } });
    });
  }

  /** The other ticket, which the agent must see too; not itself, not one merged away. */
  private async other(actor: StaffPrincipal, ticket: Ticket, otherNumber: string): Promise<Ticket> {
    const n = otherNumber.trim().replace(/^#/, '');
    if (!n) throw new ValidationError({ linkNumber: 'validation.ticket.number_required' });
    if (n === ticket.number) throw new ValidationError({ linkNumber: 'validation.link.self' });
    const other = await visibleOrNull(this.d.tickets, actor, n);
    if (!other) throw new ValidationError({ linkNumber: msg('validation.ticket.number_unknown', { number: n }) });
    if (other.mergedIntoId) throw new ValidationError({ linkNumber: msg('validation.ticket.number_merged', { number: n }) });
    return other;
  }

  async link(actor: StaffPrincipal, number: string, otherNumber: string): Promise<{ number: string }> {
    return this.change(actor, number, async (ticket, now) => {
      const other = await this.other(actor, ticket, otherNumber);
      if (!(await this.d.relations.link(ticket.id, other.id, actor.staffId, now))) return { number: other.number };
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.link', objectType: 'ticket', objectId: ticket.id, details: { number, other: other.number } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind: 'linked', data: { number: other.number } });
      await this.d.events.record({ ticketId: other.id, actor, kind: 'linked', data: { number: ticket.number } });
      return { number: other.number };
    });
  }

  /** Unlinking needs only the ticket the agent is on: a link to a ticket they cannot see any more may go. */
  async unlink(actor: StaffPrincipal, number: string, otherNumber: string): Promise<void> {
    await this.change(actor, number, async (ticket) => {
      const other = await this.d.ticketRepo.findBy({ number: otherNumber });
      if (!other || !(await this.d.relations.unlink(ticket.id, other.id))) throw new AppError('LINK_NOT_FOUND', 'not_found', 'errors.link.not_found');
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.unlink', objectType: 'ticket', objectId: ticket.id, details: { number, other: other.number } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind: 'unlinked', data: { number: other.number } });
      await this.d.events.record({ ticketId: other.id, actor, kind: 'unlinked', data: { number: ticket.number } });
    });
  }
}
