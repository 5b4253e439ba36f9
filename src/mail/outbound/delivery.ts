import { randomBytes } from 'node:crypto';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Clock } from '../../db/time.js';
import type { Logger } from '../../logger.js';
import { redactPasswordLinks } from '../../staff/password-links.js';
import { redactAccessTokens } from '../../tickets/access-token.js';

const redactLinks = (body: string) => redactPasswordLinks(redactAccessTokens(body));
import type { OutboxRepository, OutboxRow } from './outbox-repository.js';

export interface DeliveryConfig {
  /** Empty: no relay, mail waits in the outbox. */
  outboundSmtpUrl: string;
  helpdeskName: string;
  mailDomain: string;
  maxAttempts: number;
  retryBaseSeconds: number;
  batchSize: number;
  /** A claim not touched for this long is taken to belong to a dead node and is claimable again. */
  claimTimeoutSeconds: number;
}

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
}

/** The part of a nodemailer transport we use; tests may hand in their own. */
export interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<unknown>;
  close(): void;
}

const MAX_BACKOFF_MS = 6 * 3600_000;

/** A file of the entry a mail is about, with its bytes; `contentId` set for an image its HTML shows inline. */
export interface MailFile {
  filename: string;
  contentType: string;
  contentId: string | null;
  data: Buffer;
}

/** The mail kinds that carry their entry's files: a response is what the requester reads the files in. */
const WITH_FILES = new Set(['response']);


/**
 * Delivers the outbox through the site's relay. Rows are claimed first (see OutboxRepository.claim), so
 * that with several nodes running each row is sent by one of them; sending happens outside any
 * transaction. While a batch is out the claim is touched every third of the claim timeout, however slow the
 * relay: a node that dies leaves rows in "sending" that another node takes over one claim timeout later. The
 * only duplicate is a mail the relay accepted just before its node died (or stalled past the timeout),
 * unrecorded. Temporary failures retry with exponential back-off; a permanent refusal (5xx) or the last
 * attempt marks the row failed, visible to administrators with the relay's answer.
 */
export class OutboxDelivery {
  private transport: MailTransport | null = null;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly config: DeliveryConfig,
    private readonly createTransport: (url: string) => MailTransport = (url) => nodemailer.createTransport({ url, pool: true, maxConnections: 3 }),
    /** The files of an entry; without it no mail carries files. */
    private readonly entryFiles: ((entryId: number) => Promise<MailFile[]>) | null = null,
  ) {}

  private async attachments(row: OutboxRow): Promise<SendMailOptions['attachments']> {
    if (!this.entryFiles || row.entryId === null || !WITH_FILES.has(row.kind)) return undefined;
    const files = await this.entryFiles(row.entryId);
    if (!files.length) return undefined;
    // With a cid nodemailer puts the file in multipart/related beside the HTML, which shows it in place.
    return files.map((f) => ({ filename: f.filename, contentType: f.contentType, content: f.data, ...(f.contentId ? { cid: f.contentId } : {}) }));
  }

  get configured(): boolean {
    return this.config.outboundSmtpUrl.trim() !== '';
  }

  /**
   * Sends one batch of due mail; returns what happened. Does nothing without a relay. Once `signal` aborts
   * no further mail of the batch is sent: the rest is handed back for the next sender.
   */
  async runOnce(signal?: AbortSignal): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retried: 0, failed: 0 };
    if (!this.configured) return report;
    const now = this.clock.now();
    const token = randomBytes(16).toString('hex');
    const timeoutMs = this.config.claimTimeoutSeconds * 1000;
    let touched = Date.now();
    const rows = await this.outbox.claim({ token, now, staleBefore: new Date(now.getTime() - timeoutMs), limit: this.config.batchSize });
    if (!rows.length) return report;
    // A claim whose heartbeat has not landed for two thirds of the timeout may soon look abandoned to another
    // node: stop sending before that, as when the lease is lost, rather than risk a second copy.
    const heartbeat = setInterval(() => {
      const at = Date.now();
      this.outbox.touchClaims(token, this.clock.now()).then(
        () => (touched = Math.max(touched, at)),
        (err: unknown) => this.log.error({ err }, 'outbox claim heartbeat failed'),
      );
    }, timeoutMs / 3);
    const held = () => !signal?.aborted && Date.now() - touched < (timeoutMs * 2) / 3;
    try {
      for (const row of rows) {
        if (!held()) break;
        await this.deliver(row, token, report);
      }
      if (!held()) await this.outbox.releaseClaims(token);
    } finally {
      clearInterval(heartbeat);
    }
    return report;
  }

  /** Batches until nothing is due (bounded, so one tick cannot run forever) or `signal` aborts. */
  async drain(signal?: AbortSignal, maxBatches = 20): Promise<DeliveryReport> {
    const total: DeliveryReport = { sent: 0, retried: 0, failed: 0 };
    for (let i = 0; i < maxBatches && !signal?.aborted; i++) {
      const r = await this.runOnce(signal);
      total.sent += r.sent;
      total.retried += r.retried;
      total.failed += r.failed;
      if (r.sent + r.retried + r.failed < this.config.batchSize) break;
    }
    return total;
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
  }

  private async deliver(row: OutboxRow, token: string, report: DeliveryReport): Promise<void> {
    const attempts = row.attempts + 1;
    try {
      this.transport ??= this.createTransport(this.config.outboundSmtpUrl);
      const from = row.fromAddress ?? `support@${this.config.mailDomain}`;
      const { 'In-Reply-To': inReplyTo, References: references, ...headers } = row.headers;
      await this.transport.sendMail({
        from: { name: this.config.helpdeskName, address: from },
        to: row.to,
        cc: row.cc.length ? row.cc : undefined,
        subject: row.subject,
        text: row.bodyText,
        html: row.bodyHtml ?? undefined,
        attachments: await this.attachments(row),
        messageId: row.messageId ? `<${row.messageId}>` : undefined,
        inReplyTo,
        references,
        headers,
        // Bounces come back to the mailbox, where intake attaches them to the ticket.
        envelope: { from, to: [...row.to, ...row.cc] },
      });
      // Once delivered, the stored copy keeps no usable link (access or password): the reader has the mail.
      await this.outbox.markSent(row.id, token, this.clock.now(), {
        bodyText: redactLinks(row.bodyText),
        bodyHtml: row.bodyHtml === null ? null : redactLinks(row.bodyHtml),
      });
      report.sent++;
    } catch (err) {
      const e = err as Error & { responseCode?: number; code?: string };
      const error = (e.message || String(err)).slice(0, 1000);
      const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EENVELOPE';
      if (permanent || attempts >= this.config.maxAttempts) {
        await this.outbox.markFailed(row.id, token, { attempts, error });
        report.failed++;
        this.log.warn({ outboxId: row.id, attempts, error }, 'outgoing mail failed');
      } else {
        const delay = Math.min(MAX_BACKOFF_MS, this.config.retryBaseSeconds * 1000 * 2 ** (attempts - 1));
        await this.outbox.markRetry(row.id, token, { attempts, nextAttemptAt: new Date(this.clock.now().getTime() + delay), error });
        report.retried++;
        this.log.info({ outboxId: row.id, attempts, error, retryInMs: delay }, 'outgoing mail deferred');
      }
    }
  }
}
