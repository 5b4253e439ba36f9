import type { DirectoryCache } from '../../directory/directory-cache.js';
import { sanitizeMailHtml } from '../../content/sanitize.js';
import type { ThreadRepository } from '../../threads/thread-repository.js';
import type { CollaboratorRepository } from '../../tickets/collaborator-repository.js';
import type { TicketRepository } from '../../tickets/ticket-repository.js';
import { LIMITS, type TicketService } from '../../tickets/ticket-service.js';
import type { FileInput, Ticket } from '../../tickets/ticket.js';
import type { RequesterLanguage } from '../../users/user-service.js';
import type { Mailbox } from '../mailboxes/mailbox-repository.js';
import { messageIdHash, type MessageIdSigner } from '../message-id.js';
import { authenticateSender, verdictFor, type AuthenticateContext, type SenderEvidence } from './authenticate.js';
import { classify, type Classification } from './classify.js';
import type { InboundOutcome } from './inbound-repository.js';
import type { ParsedMessage } from './parse.js';
import { findThread, parentIds, type ThreadMatch, type ThreadingLookups } from './threading.js';

export type IntakeOutcome =
  | { status: 'ticket' | 'reply'; inboundId: number; ticketId: number; ticketNumber: string; entryId: number }
  | { status: 'bounce'; inboundId: number; ticketId: number | null }
  | { status: 'dropped'; inboundId: number; reason: string }
  | { status: 'quarantined'; inboundId: number; error: string }
  | { status: 'duplicate' };

/** Entries stored under the Message-IDs a message answers; `prefetch` reads them before a transaction when threading will need them. */
export interface StoredIds {
  all(): Promise<Array<{ hash: string; ticketId: number }>>;
  prefetch(): Promise<void>;
}
type MessageLookups = ThreadingLookups & { ticket(id: number): Promise<Ticket | null> };

/** What became of a message: the row to record, and the answer once the row has its id. */
export interface Processed {
  record: InboundOutcome;
  outcome(inboundId: number): IntakeOutcome;
}

const processed = (record: InboundOutcome, outcome: (inboundId: number) => IntakeOutcome): Processed => ({ record, outcome });

/** What a message will be stored as, worked out before the transaction so that it holds no CPU work. */
export interface Prepared {
  classification: Classification;
  /** Empty for a mail without text: readers are told so in their language where it is shown. */
  bodyText: string;
  bodyTruncated: boolean;
  bodyHtml: string | null;
  attachments: FileInput[];
}

export interface MessageProcessorDeps {
  tickets: TicketService;
  ticketRepo: TicketRepository;
  threads: ThreadRepository;
  collaborators: CollaboratorRepository;
  staff: Pick<DirectoryCache, 'activeStaffByEmail'>;
  signer: MessageIdSigner;
  /** authserv-ids whose Authentication-Results headers are believed (config mail.trustedAuthServers). */
  trustedAuthServers: readonly string[];
  mailDomain: string;
  /** The offered language a tag names ("da-DK" → "da"), or null: a new requester's notices follow their mail's language. */
  offeredLanguage: (tag: string) => string | null;
}

/**
 * The pipeline's stages after parsing, for one message: classify (prepare, before the transaction), authenticate
 * the sender, find the thread, and apply through the ticket services, which keep the rules about what an entry
 * may do (DESIGN.md §11). Storing the raw message, retries and quarantine are the intake's (intake-service.ts).
 */
export class MessageProcessor {
  private readonly auth: AuthenticateContext;

  constructor(private readonly d: MessageProcessorDeps) {
    this.auth = {
      signer: d.signer,
      trustedAuthServers: d.trustedAuthServers,
      findAgentByEmail: async (address) => {
        const agent = await d.staff.activeStaffByEmail(address);
        return agent && { id: agent.id, name: agent.name };
      },
    };
  }

  /** Classification, the body as stored and the attachments: pure work, done outside the transaction. */
  prepare(m: ParsedMessage, envelopeFrom: string | null): Prepared {
    const classification = classify(m, { mailDomain: this.d.mailDomain, envelopeFrom });
    const attachments = this.files(m);
    if (classification.kind !== 'message') return { classification, bodyText: '', bodyTruncated: false, bodyHtml: null, attachments };
    const text = m.text.replace(/\r\n?/g, '\n').trim();
    const bodyTruncated = text.length > LIMITS.message;
    return { classification, bodyText: bodyTruncated ? text.slice(0, LIMITS.message) : text, bodyTruncated, bodyHtml: m.html ? sanitizeMailHtml(m.html) : null, attachments };
  }

  /**
   * Entries already stored under the Message-IDs a message answers, read at most once. Threading needs them
   * only when no parent is one of our signed ids (or its ticket is gone): a reply to our own mail, as most
   * replies are, and a message that answers nothing, skip the query.
   */
  storedIds(m: ParsedMessage): StoredIds {
    const parents = parentIds(m);
    let read: Promise<Array<{ hash: string; ticketId: number }>> | null = null;
    const all = () =>
      (read ??= this.d.threads.storedMessageIds(parents.map(messageIdHash)).catch((err: unknown) => {
        read = null;
        throw err;
      }));
    return {
      all,
      prefetch: async () => {
        if (parents.length && !parents.some((id) => this.d.signer.verify(id))) await all();
      },
    };
  }

  /**
   * The stages after parsing: classify (done in prepare), authenticate the sender, find the thread, then
   * apply through the ticket services, which keep the rules about what an entry may do (DESIGN.md §11).
   * The inbound row is the caller's to write, with the outcome returned here.
   */
  async process(m: ParsedMessage, mailbox: Mailbox, p: Prepared, stored: StoredIds): Promise<Processed> {
    const c = p.classification;
    if (c.kind === 'drop') return processed({ status: 'dropped', reason: c.reason }, (inboundId) => ({ status: 'dropped', inboundId, reason: c.reason }));
    const lookups = this.lookups(stored);
    if (c.kind === 'bounce') return this.bounce(m, c.originalMessageIds, p.attachments, lookups);

    const evidence = await authenticateSender(m, this.auth);
    const thread = await findThread({ inReplyTo: m.inReplyTo, references: m.references, subject: m.subject, from: m.from.address }, this.d.signer, lookups);
    if (thread) return this.reply(m, p, thread, evidence, lookups);
    return this.openTicket(m, mailbox, p, evidence);
  }

  /**
   * Threading's questions for one message. A ticket read to see that it exists is kept for the reply that
   * follows; stored Message-IDs come from the query made before the transaction.
   */
  private lookups(stored: StoredIds): MessageLookups {
    const tickets = new Map<number, Promise<Ticket | null>>();
    const ticket = (id: number) => {
      if (!tickets.has(id)) tickets.set(id, this.d.ticketRepo.findBy({ id }));
      return tickets.get(id)!;
    };
    return {
      ticket,
      ticketExists: async (id) => (await ticket(id)) !== null,
      ticketForMessageIdHashes: async (hashes) => (await stored.all()).find((s) => hashes.includes(s.hash))?.ticketId ?? null,
      ticketIdByNumber: async (number) => (await this.d.ticketRepo.findBy({ number }))?.id ?? null,
      isParticipant: (ticketId, address) => this.d.collaborators.isParticipant(ticketId, address),
      survivorOf: async (id) => (await ticket(id))?.mergedIntoId ?? id,
    };
  }

  /** A message on an existing ticket: a note only when proven to be an agent's, flagged when from a stranger. */
  private async reply(m: ParsedMessage, p: Prepared, thread: ThreadMatch, evidence: SenderEvidence, lookups: MessageLookups): Promise<Processed> {
    const { verification, agent } = verdictFor(evidence, thread.ticketId);
    const known = await lookups.ticket(thread.ticketId);
    const fromRequester = known?.requesterEmail === m.from.address;
    const fromNonParticipant = !agent && !fromRequester && !(await lookups.isParticipant(thread.ticketId, m.from.address));
    const { ticket, entryId } = await this.d.tickets.addInboundMessage(thread.ticketId, {
      name: m.from.name, email: m.from.address, bodyText: p.bodyText, bodyHtml: p.bodyHtml, bodyTruncated: p.bodyTruncated, attachments: p.attachments, messageId: m.messageId, source: 'email',
      agent, verification, fromNonParticipant, ...(known ? { ticket: known } : {}),
    });
    return processed({ status: 'reply', reason: thread.via, ticketId: ticket.id, entryId }, (inboundId) => ({ status: 'reply', inboundId, ticketId: ticket.id, ticketNumber: ticket.number, entryId }));
  }

  private async openTicket(m: ParsedMessage, mailbox: Mailbox, p: Prepared, evidence: SenderEvidence): Promise<Processed> {
    const own = mailbox.topic?.isActive ? mailbox.topic : null;
    const ours = `@${this.d.mailDomain.toLowerCase()}`;
    const { ticket, entryId } = await this.d.tickets.create(null, {
      name: [...m.from.name].slice(0, LIMITS.name).join(''),
      email: m.from.address,
      // Empty when the mail has none: the pages and notices name that in their reader's language.
      subject: [...m.subject].slice(0, LIMITS.subject).join(''),
      message: p.bodyText,
      received: { truncated: p.bodyTruncated },
      // The mailbox's topic, public or internal, places the ticket as it does a chosen one; the mailbox's own
      // department and priority are for a mailbox without an active topic, which gets the default topic's agent
      // and auto-response setting but stays in the mailbox's department. Neither department can be deleted
      // while a mailbox or topic names it (foreign keys), so what was read with the mailbox is current.
      configuredTopic: mailbox.topic,
      ...(own
        ? { department: { id: own.departmentId, name: mailbox.topicDepartmentName ?? '' } }
        : { departmentId: mailbox.departmentId, department: { id: mailbox.departmentId, name: mailbox.departmentName }, priority: mailbox.defaultPriority }),
      source: 'email',
      attachments: p.attachments,
      notifyRequester: mailbox.autoResponse,
      bodyHtml: p.bodyHtml,
      messageId: m.messageId,
      collaborators: m.cc.filter((a) => !a.address.endsWith(ours) && a.address !== m.from.address).map((a) => ({ name: a.name, email: a.address })),
      mailbox,
      verification: verdictFor(evidence, null).verification,
      requesterLanguage: this.requesterLanguage(m),
    });
    return processed({ status: 'ticket', ticketId: ticket.id, entryId }, (inboundId) => ({ status: 'ticket', inboundId, ticketId: ticket.id, ticketNumber: ticket.number, entryId }));
  }

  /** The first offered language of the mail's Content-Language; it never replaces a stored one. */
  private requesterLanguage(m: ParsedMessage): RequesterLanguage | null {
    for (const tag of m.contentLanguage) {
      const code = this.d.offeredLanguage(tag);
      if (code) return { code, replace: false };
    }
    return null;
  }

  /**
   * A delivery report attaches, as a staff-only note, to the ticket whose mail bounced: only one we signed,
   * since every mail we send carries a signed id, and anyone can write a "report" naming a stored one.
   */
  private async bounce(m: ParsedMessage, originalIds: string[], attachments: FileInput[], lookups: ThreadingLookups): Promise<Processed> {
    let ticketId: number | null = null;
    for (const id of originalIds) {
      const ref = this.d.signer.verify(id);
      if (ref && (await lookups.ticketExists(ref.ticketId))) {
        ticketId = await lookups.survivorOf(ref.ticketId);
        break;
      }
    }
    if (ticketId === null) return processed({ status: 'bounce', reason: 'unmatched' }, (inboundId) => ({ status: 'bounce', inboundId, ticketId: null }));
    const text = m.text.length > 20_000 ? `${m.text.slice(0, 20_000)}\n[…]` : m.text;
    const entryId = await this.d.tickets.addSystemNote(ticketId, {
      kind: 'bounce',
      bodyText: text.trim(),
      attachments,
      source: 'email',
    });
    const matched = ticketId;
    return processed({ status: 'bounce', reason: 'matched', ticketId, entryId }, (inboundId) => ({ status: 'bounce', inboundId, ticketId: matched }));
  }

  private files(m: ParsedMessage): FileInput[] {
    return m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, data: a.data, contentId: a.contentId, inline: a.inline }));
  }
}
