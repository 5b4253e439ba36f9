import type { Database } from '../../db/database.js';
import { deleteInBatches } from '../../db/purge.js';
import { fromDbTimeRequired, toDbTime } from '../../db/time.js';
import { readableHeaderText } from './raw-headers.js';

export const INBOUND_STATUSES = ['processing', 'ticket', 'reply', 'bounce', 'dropped', 'quarantined'] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export type IntakeSource = 'smtp' | 'api' | 'pipe' | 'imap';

export interface NewInbound {
  mailboxId: number | null;
  messageIdHash: string;
  messageId: string | null;
  sender: string | null;
  subject: string | null;
  raw: Buffer;
  status: InboundStatus;
  error?: string | null;
  /** The outcome, when the message was processed before its row is written. */
  reason?: string | null;
  ticketId?: number | null;
  entryId?: number | null;
  source: IntakeSource;
  remoteAddress: string | null;
  receivedAt: Date;
}

export interface InboundOutcome {
  status: InboundStatus;
  reason?: string | null;
  error?: string | null;
  ticketId?: number | null;
  entryId?: number | null;
}

export interface InboundSummary {
  id: number;
  mailboxId: number | null;
  messageId: string | null;
  sender: string | null;
  subject: string | null;
  size: number;
  status: InboundStatus;
  reason: string | null;
  error: string | null;
  ticketId: number | null;
  ticketNumber: string | null;
  entryId: number | null;
  source: IntakeSource;
  remoteAddress: string | null;
  receivedAt: Date;
}

const SUMMARY_COLUMNS = [
  ...['id', 'mailbox_id', 'message_id', 'sender', 'subject', 'size', 'status', 'reason', 'error', 'ticket_id', 'entry_id', 'source', 'remote_address', 'received_at'].map((c) => `i.${c}`),
  't.number as ticket_number',
];

const map = (r: Record<string, unknown>): InboundSummary => ({
  id: Number(r.id),
  mailboxId: r.mailbox_id === null ? null : Number(r.mailbox_id),
  messageId: (r.message_id as string | null) ?? null,
  // Rows quarantined before summaries were decoded hold raw header text: shown decoded all the same.
  sender: r.sender ? readableHeaderText(r.sender as string) : null,
  subject: r.subject ? readableHeaderText(r.subject as string) : null,
  size: Number(r.size),
  status: r.status as InboundStatus,
  reason: (r.reason as string | null) ?? null,
  error: (r.error as string | null) ?? null,
  ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
  ticketNumber: (r.ticket_number as string | null) ?? null,
  entryId: r.entry_id === null ? null : Number(r.entry_id),
  source: r.source as IntakeSource,
  remoteAddress: (r.remote_address as string | null) ?? null,
  receivedAt: fromDbTimeRequired(r.received_at as string),
});

/** inbound_messages (raw mail and what became of it) and the auto-reply log. */
export class InboundRepository {
  /** One per message received: built once. */
  private readonly insertRow: (row: Record<string, unknown>) => Promise<number>;

  constructor(private readonly db: Database) {
    this.insertRow = db.inserter('inbound_messages');
  }

  /** Throws UniqueViolation when this mailbox already has a message with this Message-ID. */
  async insert(m: NewInbound): Promise<number> {
    return this.insertRow({
      mailbox_id: m.mailboxId,
      message_id_hash: m.messageIdHash,
      message_id: m.messageId,
      sender: m.sender?.slice(0, 254) ?? null,
      subject: m.subject ? [...m.subject].slice(0, 255).join('') : null,
      size: m.raw.length,
      raw: this.db.blob(m.raw),
      status: m.status,
      error: m.error ? m.error.slice(0, 2000) : null,
      reason: m.reason ?? null,
      ticket_id: m.ticketId ?? null,
      entry_id: m.entryId ?? null,
      source: m.source,
      remote_address: m.remoteAddress,
      received_at: toDbTime(m.receivedAt),
    });
  }

  async exists(mailboxId: number | null, messageIdHash: string): Promise<boolean> {
    const r = await this.db.run((q) => q('inbound_messages').where({ mailbox_id: mailboxId, message_id_hash: messageIdHash }).first('id'));
    return Boolean(r);
  }

  async setOutcome(id: number, o: InboundOutcome): Promise<void> {
    await this.db.run((q) =>
      q('inbound_messages').where({ id }).update({
        status: o.status,
        reason: o.reason ?? null,
        error: o.error ? o.error.slice(0, 2000) : null,
        ticket_id: o.ticketId ?? null,
        entry_id: o.entryId ?? null,
      }),
    );
  }

  /** Takes a quarantined message for a retry; false when it is gone or someone else took it first. */
  async takeFromQuarantine(id: number): Promise<boolean> {
    const n = await this.db.run((q) => q('inbound_messages').where({ id, status: 'quarantined' }).update({ status: 'processing', error: null }));
    return n === 1;
  }

  async get(id: number): Promise<InboundSummary | null> {
    const r = await this.db.run((q) => q('inbound_messages as i').leftJoin('tickets as t', 't.id', 'i.ticket_id').where('i.id', id).first(SUMMARY_COLUMNS));
    return r ? map(r) : null;
  }

  async raw(id: number): Promise<Buffer | null> {
    const r = await this.db.run((q) => q('inbound_messages').where({ id }).first('raw'));
    return r ? Buffer.from(r.raw as Uint8Array) : null;
  }

  async list(opts: { status?: InboundStatus; beforeId?: number | null; limit: number }): Promise<InboundSummary[]> {
    const rows = await this.db.run((q) => {
      const query = q('inbound_messages as i').leftJoin('tickets as t', 't.id', 'i.ticket_id').orderBy('i.id', 'desc').limit(opts.limit).select(SUMMARY_COLUMNS);
      if (opts.status) query.where('i.status', opts.status);
      if (opts.beforeId) query.where('i.id', '<', opts.beforeId);
      return query;
    });
    return rows.map(map);
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.run((q) => q('inbound_messages').groupBy('status').select('status').count({ n: '*' }));
    const out: Record<string, number> = {};
    for (const r of rows as Array<Record<string, unknown>>) out[r.status as string] = Number(r.n);
    return out;
  }

  async delete(id: number): Promise<boolean> {
    return (await this.db.run((q) => q('inbound_messages').where({ id }).delete())) === 1;
  }

  /**
   * Retention: deletes handled messages received before `cutoff`, in batches. Quarantined ones wait for an
   * administrator and messages still in intake are never touched.
   */
  async purgeHandled(cutoff: Date, batchSize: number, signal?: AbortSignal): Promise<number> {
    const handled = INBOUND_STATUSES.filter((s) => s !== 'quarantined' && s !== 'processing');
    return deleteInBatches(this.db, 'inbound_messages', (w) => w.where('received_at', '<', toDbTime(cutoff)).whereIn('status', handled), batchSize, signal);
  }
}
