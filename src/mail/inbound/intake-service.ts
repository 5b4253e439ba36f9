import { createHash } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { DatabaseUnavailable, RetryableConflict, UniqueViolation } from '../../db/errors.js';
import type { Clock } from '../../db/time.js';
import { AppError, ValidationError } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import type { Logger } from '../../logger.js';
import type { DirectoryCache } from '../../directory/directory-cache.js';
import { DuplicateMessageId, type ThreadRepository } from '../../threads/thread-repository.js';
import type { CollaboratorRepository } from '../../tickets/collaborator-repository.js';
import type { TicketRepository } from '../../tickets/ticket-repository.js';
import { LIMITS, type TicketService } from '../../tickets/ticket-service.js';
import type { FileInput, Ticket } from '../../tickets/ticket.js';
import type { Mailbox } from '../mailboxes/mailbox-repository.js';
import type { MailboxService } from '../mailboxes/mailbox-service.js';
import { messageIdHash, type MessageIdSigner } from '../message-id.js';
import { authenticateSender, verdictFor, type AuthenticateContext, type SenderEvidence } from './authenticate.js';
import type { BanService } from './ban-service.js';
import { classify, type Classification } from './classify.js';
import type { InboundOutcome, InboundRepository, IntakeSource } from './inbound-repository.js';
import { parseMessage, scanMessageId, scanSummary, UnparsableMessage, type ParsedMessage } from './parse.js';
import { sanitizeMailHtml } from '../../content/sanitize.js';
import { findThread, parentIds, type ThreadMatch, type ThreadingLookups } from './threading.js';
import type { RequesterLanguage } from '../../users/user-service.js';

export interface IntakeEnvelope {
  /** The mailbox named by RCPT TO; null for the pipe and the API, which read it from the headers. */
  mailbox: Mailbox | null;
  /** The SMTP reverse-path: '' for the null sender of a delivery report, null when there was no SMTP. */
  envelopeFrom: string | null;
  source: IntakeSource;
  remoteAddress: string | null;
  /** The listener refused a banned envelope sender at MAIL FROM already, so the intake need not check it again. */
  envelopeFromChecked?: boolean;
}

export type IntakeOutcome =
  | { status: 'ticket' | 'reply'; inboundId: number; ticketId: number; ticketNumber: string; entryId: number }
  | { status: 'bounce'; inboundId: number; ticketId: number | null }
  | { status: 'dropped'; inboundId: number; reason: string }
  | { status: 'quarantined'; inboundId: number; error: string }
  | { status: 'duplicate' };

/** The sender is on the banned list: refused (SMTP 550), nothing stored. */
export class SenderBanned extends AppError {
  constructor() {
    super('SENDER_BANNED', 'forbidden', 'errors.mail.sender_banned');
  }
}

class DuplicateDelivery extends Error {}

/** Entries stored under the Message-IDs a message answers; `prefetch` reads them before a transaction when threading will need them. */
interface StoredIds {
  all(): Promise<Array<{ hash: string; ticketId: number }>>;
  prefetch(): Promise<void>;
}
type MessageLookups = ThreadingLookups & { ticket(id: number): Promise<Ticket | null> };

/** What became of a message: the row to record, and the answer once the row has its id. */
interface Processed {
  record: InboundOutcome;
  outcome(inboundId: number): IntakeOutcome;
}

const processed = (record: InboundOutcome, outcome: (inboundId: number) => IntakeOutcome): Processed => ({ record, outcome });

/** What a message will be stored as, worked out before the transaction so that it holds no CPU work. */
interface Prepared {
  classification: Classification;
  bodyText: string;
  bodyHtml: string | null;
  attachments: FileInput[];
}

export interface IntakeDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  mailboxes: MailboxService;
  inbound: InboundRepository;
  bans: BanService;
  tickets: TicketService;
  ticketRepo: TicketRepository;
  threads: ThreadRepository;
  collaborators: CollaboratorRepository;
  staff: Pick<DirectoryCache, 'activeStaffByEmail'>;
  signer: MessageIdSigner;
  /** authserv-ids whose Authentication-Results headers are believed (config mail.trustedAuthServers). */
  trustedAuthServers: readonly string[];
  mailDomain: string;
  /**
   * A message in English: quarantine reasons are stored and shown as text, like log lines, never in a
   * reader's language (services.ts gives the English translator).
   */
  describe: (m: Msg) => string;
  /** The offered language a tag names ("da-DK" → "da"), or null: a new requester's notices follow their mail's language. */
  offeredLanguage: (tag: string) => string | null;
}

const ATTEMPTS = 3;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * Turns one raw message into a ticket, a reply, a bounce note or a recorded drop, in one transaction that
 * also stores the raw message, so that the caller may answer 250 only once everything is committed
 * (DESIGN.md §4). The same Message-ID to the same mailbox is answered as a success that writes nothing.
 * What cannot be processed is kept raw in quarantine; only a database failure is left for the sender to retry.
 */
export class MailIntakeService {
  private readonly auth: AuthenticateContext;

  constructor(private readonly d: IntakeDeps) {
    this.auth = {
      signer: d.signer,
      trustedAuthServers: d.trustedAuthServers,
      findAgentByEmail: async (address) => {
        const agent = await d.staff.activeStaffByEmail(address);
        return agent && { id: agent.id, name: agent.name };
      },
    };
  }

  async deliver(raw: Buffer, env: IntakeEnvelope): Promise<IntakeOutcome> {
    const outcome = await this.deliverUnlogged(raw, env);
    this.d.log.info({ source: env.source, mailbox: env.mailbox?.localPart, bytes: raw.length, remote: env.remoteAddress, ...outcome }, 'inbound message');
    return outcome;
  }

  private async deliverUnlogged(raw: Buffer, env: IntakeEnvelope): Promise<IntakeOutcome> {
    let parsed: ParsedMessage;
    try {
      parsed = await parseMessage(raw, { envelopeFrom: env.envelopeFrom });
    } catch (err) {
      if (!(err instanceof UnparsableMessage)) throw err;
      return this.quarantine(raw, env, env.mailbox ?? (await this.d.mailboxes.defaultMailbox()), err.message);
    }
    const mailbox = env.mailbox ?? (await this.mailboxFromHeaders(parsed));
    if (!mailbox) throw new AppError('NO_MAILBOX', 'unavailable', 'errors.mail.no_mailbox');
    if (await this.d.bans.checkBeyond(env.envelopeFromChecked ? env.envelopeFrom : null, parsed.from.address, env.envelopeFrom)) throw new SenderBanned();
    const idHash = this.idHash(parsed.messageId, raw);
    // A message delivered again, to this mailbox or to another of ours, is found by unique keys, not by a read
    // first: the entry's Message-ID fails its insert (thread-repository.ts), and so, for a message that made no
    // entry, does the inbound row below. The Message-IDs it answers are read here, outside the transaction,
    // and once for all attempts.
    const stored = this.storedIds(parsed);
    await stored.prefetch();

    const summary = { sender: parsed.from.address, subject: parsed.subject || null };
    try {
      // Inside the try, so that a message the sanitiser chokes on is quarantined like any other failure.
      const prepared = this.prepare(parsed, env.envelopeFrom);
      return await this.withRetries(() =>
        this.d.db.transaction(async () => {
          const done = await this.process(parsed, mailbox, prepared, stored);
          // Stored last, with its outcome, so that the row is written once. A concurrent delivery of the same
          // message that committed first fails this insert (on MySQL it waited for it), and all of this
          // transaction's work rolls back with it.
          let inboundId: number;
          try {
            inboundId = await this.d.inbound.insert({
              mailboxId: mailbox.id, messageIdHash: idHash, messageId: parsed.messageId, ...summary, raw, ...done.record,
              source: env.source, remoteAddress: env.remoteAddress, receivedAt: this.d.clock.now(),
            });
          } catch (err) {
            if (err instanceof UniqueViolation) throw new DuplicateDelivery();
            throw err;
          }
          return done.outcome(inboundId);
        }),
      );
    } catch (err) {
      if (err instanceof DuplicateDelivery || err instanceof DuplicateMessageId) return { status: 'duplicate' };
      if (isTransient(err)) throw err;
      this.d.log.error({ err, sender: parsed.from.address }, 'inbound message failed; quarantining it');
      return this.quarantine(raw, env, mailbox, this.reason(err));
    }
  }

  /** An administrator's retry of a quarantined message: processed as if it had just arrived. */
  async retryQuarantined(id: number): Promise<IntakeOutcome> {
    const row = await this.d.inbound.get(id);
    const raw = await this.d.inbound.raw(id);
    if (!row || !raw || row.status !== 'quarantined') throw new AppError('NOT_QUARANTINED', 'not_found', 'errors.mail.not_quarantined');
    let parsed: ParsedMessage;
    try {
      parsed = await parseMessage(raw);
    } catch (err) {
      if (!(err instanceof UnparsableMessage)) throw err;
      await this.d.inbound.setOutcome(id, { status: 'quarantined', error: err.message });
      return { status: 'quarantined', inboundId: id, error: err.message };
    }
    const mailbox = (row.mailboxId ? await this.d.mailboxes.get(row.mailboxId).catch(() => null) : null) ?? (await this.mailboxFromHeaders(parsed));
    if (!mailbox) throw new AppError('NO_MAILBOX', 'unavailable', 'errors.mail.no_mailbox');
    try {
      const prepared = this.prepare(parsed, null);
      const stored = this.storedIds(parsed);
      await stored.prefetch();
      return await this.withRetries(() =>
        this.d.db.transaction(async () => {
          if (!(await this.d.inbound.takeFromQuarantine(id))) throw new AppError('NOT_QUARANTINED', 'conflict', 'errors.mail.already_retried');
          if (await this.d.bans.check(parsed.from.address)) {
            await this.d.inbound.setOutcome(id, { status: 'dropped', reason: 'banned' });
            return { status: 'dropped' as const, inboundId: id, reason: 'banned' };
          }
          const done = await this.process(parsed, mailbox, prepared, stored);
          await this.d.inbound.setOutcome(id, done.record);
          return done.outcome(id);
        }),
      );
    } catch (err) {
      if (isTransient(err) || (err instanceof AppError && err.code === 'NOT_QUARANTINED')) throw err;
      if (err instanceof DuplicateMessageId) {
        // The same message arrived at another mailbox meanwhile and made its entry there.
        await this.d.inbound.setOutcome(id, { status: 'dropped', reason: 'duplicate' });
        return { status: 'dropped', inboundId: id, reason: 'duplicate' };
      }
      const message = this.reason(err);
      this.d.log.error({ err, inboundId: id }, 'quarantined message failed again');
      await this.d.inbound.setOutcome(id, { status: 'quarantined', error: message });
      return { status: 'quarantined', inboundId: id, error: message };
    }
  }

  /**
   * Why a message went to quarantine, in English, for the administrator: each field a check refused, or the
   * error's message; an unexpected failure's detail is in the log only.
   */
  private reason(err: unknown): string {
    const { describe } = this.d;
    if (err instanceof ValidationError) return Object.entries(err.fields).map(([field, problem]) => describe(msg('validation.field_problem', { field, problem: describe(problem) }))).join(' ');
    return describe(err instanceof AppError ? err.userMessage : 'errors.mail.processing_failed');
  }

  /** Classification, the body as stored and the attachments: pure work, done outside the transaction. */
  private prepare(m: ParsedMessage, envelopeFrom: string | null): Prepared {
    const classification = classify(m, { mailDomain: this.d.mailDomain, envelopeFrom });
    const attachments = this.files(m);
    if (classification.kind !== 'message') return { classification, bodyText: '', bodyHtml: null, attachments };
    return { classification, bodyText: this.bodyText(m), bodyHtml: m.html ? sanitizeMailHtml(m.html) : null, attachments };
  }

  /**
   * Entries already stored under the Message-IDs a message answers, read at most once. Threading needs them
   * only when no parent is one of our signed ids (or its ticket is gone): a reply to our own mail, as most
   * replies are, and a message that answers nothing, skip the query.
   */
  private storedIds(m: ParsedMessage): StoredIds {
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
  private async process(m: ParsedMessage, mailbox: Mailbox, p: Prepared, stored: StoredIds): Promise<Processed> {
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
      name: m.from.name, email: m.from.address, bodyText: p.bodyText, bodyHtml: p.bodyHtml, attachments: p.attachments, messageId: m.messageId, source: 'email',
      agent, verification, fromNonParticipant, ...(known ? { ticket: known } : {}),
    });
    return processed({ status: 'reply', reason: thread.via, ticketId: ticket.id, entryId }, (inboundId) => ({ status: 'reply', inboundId, ticketId: ticket.id, ticketNumber: ticket.number, entryId }));
  }

  private async openTicket(m: ParsedMessage, mailbox: Mailbox, p: Prepared, evidence: SenderEvidence): Promise<Processed> {
    const topic = mailbox.topic;
    const ours = `@${this.d.mailDomain.toLowerCase()}`;
    const { ticket, entryId } = await this.d.tickets.create(null, {
      name: [...m.from.name].slice(0, LIMITS.name).join(''),
      email: m.from.address,
      subject: [...(m.subject || '(no subject)')].slice(0, LIMITS.subject).join(''),
      message: p.bodyText,
      // create() offers only public topics to callers without an agent; a mailbox may name an internal one,
      // which then still decides the department and priority.
      topicId: topic?.isPublic && topic.isActive ? topic.id : null,
      topic,
      departmentId: mailbox.departmentId,
      // A department cannot be deleted while a mailbox names it (foreign key), so the mailbox's read is current.
      department: { id: mailbox.departmentId, name: mailbox.departmentName },
      priority: mailbox.defaultPriority,
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
      authorName: 'Mail delivery system',
      bodyText: `A message about this ticket could not be delivered.\n\n${text.trim()}`,
      attachments,
      source: 'email',
    });
    const matched = ticketId;
    return processed({ status: 'bounce', reason: 'matched', ticketId, entryId }, (inboundId) => ({ status: 'bounce', inboundId, ticketId: matched }));
  }

  private bodyText(m: ParsedMessage): string {
    const text = m.text.replace(/\r\n?/g, '\n').trim();
    const max = LIMITS.message;
    if (!text) return m.attachments.length ? '(no text; see the attachments)' : '(empty message)';
    return text.length > max ? `${text.slice(0, max - 100)}\n\n[The message was shortened here; the original is kept in full.]` : text;
  }

  private files(m: ParsedMessage): FileInput[] {
    return m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, data: a.data, contentId: a.contentId, inline: a.inline }));
  }

  /** For the pipe and the API: the first of our mailboxes named in the delivery headers, else the default. */
  private async mailboxFromHeaders(m: ParsedMessage): Promise<Mailbox | null> {
    const named = [
      ...(m.headers.get('delivered-to') ?? []),
      ...(m.headers.get('x-original-to') ?? []),
      ...m.to.map((a) => a.address),
      ...m.cc.map((a) => a.address),
    ];
    for (const address of named) {
      const mailbox = await this.d.mailboxes.resolveRecipient(address.replace(/^.*<|>.*$/g, '').trim());
      if (mailbox) return mailbox;
    }
    return this.d.mailboxes.defaultMailbox();
  }

  /** Messages without a Message-ID (RFC 5322 only says "should") are deduplicated by their content. */
  private idHash(messageId: string | null, raw: Buffer): string {
    return messageId ? messageIdHash(messageId) : messageIdHash(`sha256:${sha256(raw)}`);
  }

  private async quarantine(raw: Buffer, env: IntakeEnvelope, mailbox: Mailbox | null, error: string): Promise<IntakeOutcome> {
    const messageId = scanMessageId(raw);
    const idHash = this.idHash(messageId, raw);
    const mailboxId = mailbox?.id ?? null;
    if (await this.d.inbound.exists(mailboxId, idHash)) return { status: 'duplicate' };
    try {
      const inboundId = await this.d.inbound.insert({
        mailboxId, messageIdHash: idHash, messageId, ...scanSummary(raw), raw, status: 'quarantined', error,
        source: env.source, remoteAddress: env.remoteAddress, receivedAt: this.d.clock.now(),
      });
      return { status: 'quarantined', inboundId, error };
    } catch (err) {
      if (err instanceof UniqueViolation) return { status: 'duplicate' };
      throw err;
    }
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        // A deadlock, SQLite's busy writer, or a unique race on a user or blob row that a concurrent
        // message created first: the whole transaction rolled back, so running it again is safe.
        const retryable = err instanceof RetryableConflict || err instanceof UniqueViolation;
        if (!retryable || attempt >= ATTEMPTS) throw err;
      }
    }
  }
}

/** Failures the sending MTA should retry (451) rather than ones we keep in quarantine. */
export function isTransient(err: unknown): boolean {
  return err instanceof DatabaseUnavailable || err instanceof RetryableConflict || err instanceof UniqueViolation || (err instanceof AppError && err.category === 'unavailable');
}
