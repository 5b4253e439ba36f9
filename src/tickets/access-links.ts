import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { Ticket } from './ticket.js';
import type { TicketRepository } from './ticket-repository.js';

/**
 * Revoking a ticket's access links (a link forwarded or leaked from a mailbox): every link mailed so far stops
 * opening the ticket, and the client sessions such links opened end. The next response mails a fresh link.
 */
export class AccessLinkService {
  constructor(
    private readonly d: {
      db: Database;
      tickets: TicketRepository;
      sessions: SessionRepository;
      audit: AuditRepository;
      /** The ticket if the agent may see it (TicketService.get: its access rules). */
      findTicket: (actor: StaffPrincipal, number: string) => Promise<Ticket>;
    },
  ) {}

  async revoke(actor: StaffPrincipal, number: string): Promise<void> {
    const ticket = await this.d.findTicket(actor, number);
    await this.d.db.transaction(async () => {
      await this.d.tickets.bumpAccessEpoch(ticket.id);
      const sessionsEnded = await this.d.sessions.destroyForTicket(ticket.id);
      await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.access_links_revoked', objectType: 'ticket', objectId: ticket.id, details: { number, sessionsEnded } });
    });
  }
}
