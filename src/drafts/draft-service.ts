import type { Clock } from '../db/time.js';
import { ValidationError } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { Ticket } from '../tickets/ticket.js';
import { isDraftKind, type Draft, type DraftKind, type DraftRepository } from './draft-repository.js';

/** Same ceiling as a thread entry: a draft that could not be sent is not worth keeping. */
export const MAX_DRAFT_CHARS = 200_000;

export interface DraftServiceDeps {
  clock: Clock;
  repo: DraftRepository;
  /** Resolves a ticket number for an agent, refusing tickets they may not see (TicketService.get). */
  findTicket: (actor: StaffPrincipal, number: string) => Promise<Ticket>;
}

/**
 * Reply and note drafts, saved by the page as the agent types. Keyed by agent, not by session, so a draft
 * typed while the session expired is there again after the next login.
 */
export class DraftService {
  constructor(private readonly d: DraftServiceDeps) {}

  /** Saves a draft; an empty one is deleted, so clearing the box clears the draft. */
  async save(actor: StaffPrincipal, number: string, kind: string, body: string): Promise<void> {
    if (!isDraftKind(kind)) throw new ValidationError({ kind: 'staff.draft.unknown_kind' });
    if (body.length > MAX_DRAFT_CHARS) throw new ValidationError({ body: msg('validation.too_long', { max: MAX_DRAFT_CHARS }) });
    const ticket = await this.d.findTicket(actor, number);
    if (body.trim()) await this.d.repo.save(actor.staffId, ticket.id, kind, body, this.d.clock.now());
    else await this.d.repo.delete(actor.staffId, ticket.id, kind);
  }

  /** The agent's drafts for a ticket the caller has already been allowed to see, by kind. */
  async forTicket(actor: StaffPrincipal, ticketId: number): Promise<Partial<Record<DraftKind, Draft>>> {
    const out: Partial<Record<DraftKind, Draft>> = {};
    for (const d of await this.d.repo.forTicket(actor.staffId, ticketId)) out[d.kind] = d;
    return out;
  }

  async get(actor: StaffPrincipal, number: string): Promise<Partial<Record<DraftKind, Draft>>> {
    const ticket = await this.d.findTicket(actor, number);
    return this.forTicket(actor, ticket.id);
  }

  /** Called by TicketService in the transaction that posts the entry the draft became. */
  discard(staffId: number, ticketId: number, kind: DraftKind): Promise<void> {
    return this.d.repo.delete(staffId, ticketId, kind);
  }
}
