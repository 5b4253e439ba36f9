import type { AuditRepository } from '../../audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { requireAdmin } from '../../departments/department-service.js';
import { notFound } from '../../errors.js';
import type { StaffPrincipal } from '../../staff/staff.js';
import type { InboundRepository, InboundStatus, InboundSummary } from './inbound-repository.js';
import type { IntakeOutcome, MailIntakeService } from './intake-service.js';
import { headerSection } from './raw-headers.js';
import { UnparsableMessage, parseMessage } from './parse.js';
import { renderMailHtml, sanitizeMailHtml } from '../../content/sanitize.js';

export interface QuarantinedMessage extends InboundSummary {
  /** The raw header section, encoded-words left as received, 8-bit text read as a mail client reads it (raw-headers.ts). */
  rawHeaders: string;
  /** The body as a mail client shows it; null when the message cannot be parsed. */
  bodyText: string | null;
  /** Sanitised, with remote and inline images held back; null for a text-only or unparsable message. */
  bodyHtmlSanitized: string | null;
}

const PAGE = 50;

/**
 * Messages that could not become tickets, kept raw for administrators, who can look at their headers,
 * retry them (after a fix or a configuration change) or delete them.
 */
export class QuarantineService {
  constructor(
    private readonly db: Database,
    private readonly inbound: InboundRepository,
    private readonly intake: MailIntakeService,
    private readonly audit: AuditRepository,
  ) {}

  async list(actor: StaffPrincipal, opts: { status?: InboundStatus; beforeId?: number | null } = {}): Promise<{ rows: InboundSummary[]; nextBeforeId: number | null }> {
    requireAdmin(actor);
    const rows = await this.inbound.list({ status: opts.status ?? 'quarantined', beforeId: opts.beforeId ?? null, limit: PAGE + 1 });
    const page = rows.slice(0, PAGE);
    return { rows: page, nextBeforeId: rows.length > PAGE ? page[page.length - 1]!.id : null };
  }

  /** How many messages ended in each state: tickets, replies, bounces, drops (robots, loops), quarantine. */
  counts(actor: StaffPrincipal): Promise<Record<string, number>> {
    requireAdmin(actor);
    return this.inbound.counts();
  }

  async get(actor: StaffPrincipal, id: number): Promise<QuarantinedMessage> {
    requireAdmin(actor);
    const row = await this.inbound.get(id);
    const raw = row ? await this.inbound.raw(id) : null;
    if (!row || !raw) throw notFound('MESSAGE_NOT_FOUND', 'admin.inbound.not_found');
    const body = await parseMessage(raw).then(
      (m) => ({ bodyText: m.text, bodyHtmlSanitized: m.html ? renderMailHtml(sanitizeMailHtml(m.html), { inlineImageUrl: () => null, allowRemoteImages: false }).bodyHtmlSanitized : null }),
      (err: unknown) => {
        if (err instanceof UnparsableMessage) return { bodyText: null, bodyHtmlSanitized: null };
        throw err;
      },
    );
    return { ...row, rawHeaders: headerSection(raw, 256 * 1024), ...body };
  }

  async retry(actor: StaffPrincipal, id: number): Promise<IntakeOutcome> {
    requireAdmin(actor);
    const outcome = await this.intake.retryQuarantined(id);
    await this.audit.record({ staffId: actor.staffId, action: 'inbound.retry', objectType: 'inbound_message', objectId: id, details: { status: outcome.status } });
    return outcome;
  }

  async delete(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const row = await this.inbound.get(id);
    if (!row || row.status !== 'quarantined') throw notFound('MESSAGE_NOT_FOUND', 'admin.inbound.not_in_quarantine');
    await this.db.transaction(async () => {
      await this.inbound.delete(id);
      await this.audit.record({ staffId: actor.staffId, action: 'inbound.delete', objectType: 'inbound_message', objectId: id, details: { sender: row.sender, subject: row.subject } });
    });
  }
}
