import { createHash } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { DatabaseUnavailable, RetryableConflict, UniqueViolation } from '../../db/errors.js';
import type { Clock } from '../../db/time.js';
import { AppError, ValidationError } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import type { Logger } from '../../logger.js';
import { DuplicateMessageId } from '../../threads/thread-repository.js';
import type { Mailbox } from '../mailboxes/mailbox-repository.js';
import type { MailboxService } from '../mailboxes/mailbox-service.js';
import { messageIdHash } from '../message-id.js';
import type { BanService } from './ban-service.js';
import type { InboundRepository, IntakeSource } from './inbound-repository.js';
import { MessageProcessor, type IntakeOutcome, type MessageProcessorDeps } from './message-processor.js';
import { parseMessage, scanMessageId, scanSummary, UnparsableMessage, type ParsedMessage } from './parse.js';

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

export type { IntakeOutcome };

/** The sender is on the banned list: refused (SMTP 550), nothing stored. */
export class SenderBanned extends AppError {
  constructor() {
    super('SENDER_BANNED', 'forbidden', 'errors.mail.sender_banned');
  }
}

class DuplicateDelivery extends Error {}

export interface IntakeDeps extends MessageProcessorDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  mailboxes: MailboxService;
  inbound: InboundRepository;
  bans: BanService;
  /**
   * A message in English: quarantine reasons are stored and shown as text, like log lines, never in a
   * reader's language (services.ts gives the English translator).
   */
  describe: (m: Msg) => string;
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
  private readonly processor: MessageProcessor;

  constructor(private readonly d: IntakeDeps) {
    this.processor = new MessageProcessor(d);
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
    const stored = this.processor.storedIds(parsed);
    await stored.prefetch();

    const summary = { sender: parsed.from.address, subject: parsed.subject || null };
    try {
      // Inside the try, so that a message the sanitiser chokes on is quarantined like any other failure.
      const prepared = this.processor.prepare(parsed, env.envelopeFrom);
      return await this.withRetries(() =>
        this.d.db.transaction(async () => {
          const done = await this.processor.process(parsed, mailbox, prepared, stored);
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
      const prepared = this.processor.prepare(parsed, null);
      const stored = this.processor.storedIds(parsed);
      await stored.prefetch();
      return await this.withRetries(() =>
        this.d.db.transaction(async () => {
          if (!(await this.d.inbound.takeFromQuarantine(id))) throw new AppError('NOT_QUARANTINED', 'conflict', 'errors.mail.already_retried');
          if (await this.d.bans.check(parsed.from.address)) {
            await this.d.inbound.setOutcome(id, { status: 'dropped', reason: 'banned' });
            return { status: 'dropped' as const, inboundId: id, reason: 'banned' };
          }
          const done = await this.processor.process(parsed, mailbox, prepared, stored);
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
