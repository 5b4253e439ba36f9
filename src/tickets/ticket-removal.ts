import type { AuditRepository } from '../audit/audit-repository.js';
import type { AttachmentRepository } from '../attachments/attachment-repository.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import type { EventRepository } from '../history/event-repository.js';
import { ValidationError, forbidden } from '../errors.js';
import type { LockService } from '../locks/lock-service.js';
import type { OutboxRepository } from '../mail/outbound/outbox-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { TicketRepository } from './ticket-repository.js';
import { ticketNotFound, type TicketAccess } from './ticket-rules.js';
import type { Ticket } from './ticket.js';

/** What marking spam asks of the sender bans (BanService): adding one, administrators only. */
export interface SenderBans {
  add(actor: StaffPrincipal, input: { pattern: string; note: string }): Promise<unknown>;
}

export interface TicketRemovalDeps {
  db: Database;
  clock: Clock;
  tickets: TicketRepository;
  attachments: AttachmentRepository;
  locks: Pick<LockService, 'assertMayAct'>;
  audit: AuditRepository;
  events: Pick<EventRepository, 'record'>;
  outbox: Pick<OutboxRepository, 'cancelPendingForTicket'>;
  access: Pick<TicketAccess, 'get'>;
  bans: SenderBans;
}

/**
 * Taking tickets off the desk: deleting one for good (administrators), and marking one as spam (any agent who
 * can see it), optionally banning its sender (administrators, as every ban). Both are refused while another
 * agent holds the ticket's lock, like every other change.
 */
export class TicketRemoval {
  constructor(private readonly d: TicketRemovalDeps) {}

  /**
   * Deletes the ticket and everything that hangs on it (the schema cascades), and the attachment bytes no
   * other ticket shares. The audit record keeps what identifies it, since the row is gone.
   */
  async delete(actor: StaffPrincipal, number: string): Promise<Ticket> {
    if (!actor.isAdmin) throw forbidden('TICKET_DELETE_FORBIDDEN', 'staff.bulk.refused.delete_admin');
    const ticket = await this.d.access.get(actor, number);
    await this.d.db.transaction(async () => {
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      if (!(await this.remove(ticket))) throw ticketNotFound();
      await this.d.audit.record({
        staffId: actor.staffId, action: 'ticket.delete', objectType: 'ticket', objectId: ticket.id,
        details: { number: ticket.number, subject: ticket.subject, requesterName: ticket.requesterName, requesterEmail: ticket.requesterEmail, department: ticket.departmentName },
      });
    });
    return ticket;
  }

  /**
   * False when the ticket was already gone (deleted by someone else meanwhile). Its waiting mail is withdrawn
   * first: the outbox keeps rows whose ticket is deleted (for the administrator's record), and a reply to a
   * ticket that no longer exists must not go out.
   */
  private async remove(ticket: Pick<Ticket, 'id'>): Promise<boolean> {
    await this.d.outbox.cancelPendingForTicket(ticket.id);
    const blobs = await this.d.attachments.blobsOfTicket(ticket.id);
    if (!(await this.d.tickets.delete(ticket.id))) return false;
    await this.d.attachments.deleteUnlinkedBlobs(blobs);
    return true;
  }

  /**
   * Marks the ticket as spam (status 'spam': out of every queue, see ticket.ts) and, when asked, bans the
   * requester's address; a ban that already exists counts as done. Answers whether anything changed.
   */
  async markSpam(actor: StaffPrincipal, number: string, opts: { ban: boolean }): Promise<{ changed: boolean; banned: boolean }> {
    if (opts.ban && !actor.isAdmin) throw forbidden('BAN_FORBIDDEN', 'staff.bulk.refused.ban_admin');
    const ticket = await this.d.access.get(actor, number);
    return this.d.db.transaction(async () => {
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      const changed = ticket.status !== 'spam';
      if (changed) {
        const now = this.d.clock.now();
        // closed_at says since when: the retention job deletes spam by it.
        await this.d.tickets.update(ticket.id, { status: 'spam', closedAt: now, updatedAt: now });
        // Nothing more goes out about it: not the auto-reply to its sender, nor the agents' alerts.
        await this.d.outbox.cancelPendingForTicket(ticket.id);
        await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.spam', objectType: 'ticket', objectId: ticket.id, details: { number: ticket.number, from: ticket.status, ban: opts.ban } });
      }
      const banned = opts.ban ? await this.ban(actor, ticket) : false;
      if (changed || banned) {
        await this.d.events.record({ ticketId: ticket.id, actor: { staffId: actor.staffId, name: actor.name }, kind: 'spam', data: { from: ticket.status, banned: banned ? ticket.requesterEmail : null } });
      }
      return { changed, banned };
    });
  }

  /** Bans the requester's address; false when a ban for it already existed. */
  private async ban(actor: StaffPrincipal, ticket: Ticket): Promise<boolean> {
    try {
      // A savepoint: the failed insert of an existing ban must not take the spam mark with it.
      await this.d.db.savepoint(() => this.d.bans.add(actor, { pattern: ticket.requesterEmail, note: `#${ticket.number}` }));
      return true;
    } catch (err) {
      if (err instanceof ValidationError && err.fields.pattern === 'admin.bans.errors.exists') return false;
      throw err;
    }
  }

  /**
   * Retention: deletes up to `limit` tickets marked as spam before `cutoff`, each in its own transaction,
   * audited as the system's doing. Answers how many went.
   */
  async purgeSpam(cutoff: Date, limit: number, signal?: AbortSignal): Promise<number> {
    let n = 0;
    for (const t of await this.d.tickets.spamBefore(cutoff, limit)) {
      if (signal?.aborted) break;
      const removed = await this.d.db.transaction(async () => {
        if (!(await this.remove(t))) return false;
        await this.d.audit.record({ staffId: null, action: 'ticket.spam_purge', objectType: 'ticket', objectId: t.id, details: { number: t.number, subject: t.subject } });
        return true;
      });
      if (removed) n++;
    }
    return n;
  }
}
