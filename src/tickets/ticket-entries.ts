import { entryHtml, markInlineImages } from '../content/markdown.js';
import { AppError, ValidationError, type FieldErrors } from '../errors.js';
import { assertNoUnknownVariables } from '../canned/variables.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { validateBody, type TicketAccess } from './ticket-rules.js';
import type { TicketServiceDeps } from './ticket-service.js';
import type { ClientPrincipal, FileInput, Principal, Ticket } from './ticket.js';

export interface RespondOptions {
  /**
   * The newest thread entry the agent saw when writing. Newer entries refuse the response with STALE_THREAD
   * until the agent has seen them (and sends again with the newer id). Omitted: no check (API clients).
   */
  seenEntryId?: number | null;
  /** Which signature goes below the text, in the thread and the mail (default: the department's, as before choices). */
  signature?: SignatureChoice;
  /** "Send and mark resolved" / "Send and close": the status set in the same transaction as the response. */
  thenStatus?: 'resolved' | 'closed';
  /** "Reply to all" (the default: the collaborators in copy) or "Requester only". */
  replyToAll?: boolean;
  /** The text is Markdown (the panel's forms): the entry and the mail carry its HTML too. API text stays plain. */
  markdown?: boolean;
}

export const SIGNATURE_CHOICES = ['none', 'mine', 'department'] as const;
export type SignatureChoice = (typeof SIGNATURE_CHOICES)[number];

/** Entries written in the panel and the portal: responses, notes and the requester's replies. */
export class TicketEntries {
  constructor(
    private readonly d: TicketServiceDeps,
    private readonly access: TicketAccess,
  ) {}

  /** Checks the text of a new entry, then finds the ticket it goes on (which the actor must be allowed to see). */
  private async entryTarget(actor: Principal, number: string, message: string, field: 'message' | 'note'): Promise<{ ticket: Ticket; now: Date }> {
    const fields: FieldErrors = {};
    validateBody(fields, message, field);
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const ticket = await this.access.get(actor, number);
    // A merged ticket is an alias of its survivor (ticket-merge.ts): an entry here would re-open it unseen.
    if (ticket.mergedIntoId) throw new AppError('TICKET_MERGED', 'conflict', 'errors.ticket.merged');
    return { ticket, now: this.d.clock.now() };
  }

  /** A staff response: mailed to the requester through the outbox, marks the ticket answered. */
  async respond(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = [], opts: RespondOptions = {}): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'message');
    // A canned response's placeholder left unknown (mistyped) is shown to the agent, never mailed raw.
    assertNoUnknownVariables(message, 'message');
    const status = opts.thenStatus && opts.thenStatus !== ticket.status ? opts.thenStatus : null;
    return this.d.db.transaction(async () => {
      // Writing the ticket row first serialises concurrent posts to one ticket (InnoDB row lock; SQLite's
      // single writer), so the lock and thread checks below read everything committed before this post.
      await this.d.tickets.update(ticket.id, { isAnswered: true, updatedAt: now, ...(status ? { status, closedAt: now } : {}) });
      const ownLock = await this.d.locks.assertMayAct(actor, ticket.id, 'respond');
      if (opts.seenEntryId !== undefined && opts.seenEntryId !== null) await this.assertThreadSeen(ticket.id, opts.seenEntryId);
      const dept = await this.d.departments.get(ticket.departmentId);
      const signature = await this.signature(actor, opts.signature ?? 'department', dept?.signature ?? '');
      // The signature is part of what was said: the thread shows it as the requester read it.
      const body = signature ? `${message.trimEnd()}\n\n${signature}` : message;
      const formatted = formatEntry(message, signature, files, opts);
      const cc = opts.replyToAll === false ? [] : (await this.d.collaborators.list(ticket.id)).map((c) => c.email).filter((a) => a !== ticket.requesterEmail);
      // Kept on the entry: the thread says who read it, whoever is copied later.
      const recipients = { to: [ticket.requesterEmail], cc };
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'response', staffId: actor.staffId, authorName: actor.name, bodyText: body, bodyHtml: formatted.html, source: 'web', createdAt: now, recipients, files: formatted.files });
      await this.d.attachments.add(ticket.id, entryId, formatted.files);
      if (ownLock) await this.d.locks.releaseAfterPost(ownLock);
      await this.d.drafts.discard(actor.staffId, ticket.id, 'reply');
      await this.d.notifier.response(ticket, entryId, { agentName: actor.name, body, bodyHtml: formatted.html, accessLink: this.access.accessLink(ticket), cc });
      if (status) {
        await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.status', objectType: 'ticket', objectId: ticket.id, details: { number, from: ticket.status, to: status, withResponse: entryId } });
        await this.d.events.record({ ticketId: ticket.id, actor, kind: 'status', data: { from: ticket.status, to: status } });
      }
      return entryId;
    });
  }

  private async signature(actor: StaffPrincipal, choice: SignatureChoice, department: string): Promise<string> {
    if (choice === 'department') return department.trim();
    if (choice === 'mine') return ((await this.d.staff.get(actor.staffId))?.signature ?? '').trim();
    return '';
  }

  /** An internal note: staff only, never mailed to the requester. */
  async note(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = [], opts: Pick<RespondOptions, 'markdown'> = {}): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'note');
    const formatted = formatEntry(message, '', files, opts);
    return this.d.db.transaction(async () => {
      await this.d.tickets.update(ticket.id, { updatedAt: now });
      await this.d.locks.assertMayAct(actor, ticket.id, 'note');
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'note', staffId: actor.staffId, authorName: actor.name, bodyText: message, bodyHtml: formatted.html, source: 'web', createdAt: now, files: formatted.files });
      await this.d.attachments.add(ticket.id, entryId, formatted.files);
      await this.d.drafts.discard(actor.staffId, ticket.id, 'note');
      return entryId;
    });
  }

  private async assertThreadSeen(ticketId: number, seenEntryId: number): Promise<void> {
    const newer = await this.d.threads.idsAfter(ticketId, seenEntryId);
    if (newer.length) {
      throw new AppError('STALE_THREAD', 'conflict', 'errors.ticket.stale_thread', {
        newEntryIds: newer,
        latestEntryId: newer[newer.length - 1],
      });
    }
  }

  /** The requester's reply from the portal; a reply to a resolved or closed ticket re-opens it. */
  async clientReply(actor: ClientPrincipal, number: string, message: string, files: FileInput[] = []): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'message');
    return this.d.db.transaction(async () => {
      const user = (await this.d.users.get(actor.userId))!;
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'message', userId: user.id, authorName: user.name, bodyText: message, source: 'web', createdAt: now, files });
      await this.d.attachments.add(ticket.id, entryId, files);
      // Spam stays spam, whatever its sender writes next (an agent may re-open it).
      const reopen = ticket.status !== 'open' && ticket.status !== 'spam';
      await this.d.tickets.update(ticket.id, { isAnswered: false, ...(reopen ? { status: 'open' as const, closedAt: null } : {}), updatedAt: now });
      if (reopen) await this.d.events.record({ ticketId: ticket.id, actor: 'requester', kind: 'status', data: { from: ticket.status, to: 'open' } });
      if (ticket.status !== 'spam') await this.d.notifier.newMessageAlert(ticket, entryId, user.name, message);
      return entryId;
    });
  }
}

/** An agent's Markdown as the entry's HTML, with the files it shows inline marked; plain text has no HTML. */
function formatEntry(message: string, signature: string, files: FileInput[], opts: Pick<RespondOptions, 'markdown'>): { html: string | null; files: FileInput[] } {
  if (!opts.markdown) return { html: null, files };
  const { html, cids } = entryHtml(message, signature);
  return { html, files: markInlineImages(files, cids) };
}
