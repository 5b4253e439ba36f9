import type { Database } from '../../db/database.js';
import { fromDbTime, fromDbTimeRequired, toDbTime, type Clock } from '../../db/time.js';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxMessage {
  ticketId: number | null;
  entryId: number | null;
  kind: string;
  to: string[];
  subject: string;
  bodyText: string;
  bodyHtml: string | null;
  headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const map = (r: Record<string, unknown>): OutboxRow => ({
  id: Number(r.id),
  ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
  entryId: r.entry_id === null ? null : Number(r.entry_id),
  kind: r.kind as string,
  to: JSON.parse(r.to_addresses as string) as string[],
  subject: r.subject as string,
  bodyText: r.body_text as string,
  bodyHtml: (r.body_html as string | null) ?? null,
  headers: JSON.parse(r.headers as string) as Record<string, string>,
  status: r.status as OutboxStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: fromDbTimeRequired(r.next_attempt_at as string),
  lastError: (r.last_error as string | null) ?? null,
  createdAt: fromDbTimeRequired(r.created_at as string),
  sentAt: fromDbTime(r.sent_at as string | null),
});

export class OutboxRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Called inside the transaction of the change that causes the mail, so both commit or neither does. */
  async enqueue(m: OutboxMessage): Promise<number> {
    const now = toDbTime(this.clock.now());
    const [id] = await this.db.run((q) =>
      q('outbox').insert({
        ticket_id: m.ticketId,
        entry_id: m.entryId,
        kind: m.kind,
        to_addresses: JSON.stringify(m.to),
        subject: m.subject.slice(0, 998),
        body_text: m.bodyText,
        body_html: m.bodyHtml,
        headers: JSON.stringify(m.headers),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
      }),
    );
    return Number(id);
  }

  async list(opts: { status?: OutboxStatus; beforeId?: number; limit: number }): Promise<OutboxRow[]> {
    const rows = await this.db.run((q) => {
      const query = q('outbox').orderBy('id', 'desc').limit(opts.limit);
      if (opts.status) query.where('status', opts.status);
      if (opts.beforeId) query.where('id', '<', opts.beforeId);
      return query;
    });
    return rows.map(map);
  }

  async counts(): Promise<Record<OutboxStatus, number>> {
    const rows = await this.db.run((q) => q('outbox').groupBy('status').select('status').count({ n: '*' }));
    const out = { pending: 0, sending: 0, sent: 0, failed: 0 } as Record<OutboxStatus, number>;
    for (const r of rows as Array<Record<string, unknown>>) out[r.status as OutboxStatus] = Number(r.n);
    return out;
  }

  async forTicket(ticketId: number): Promise<OutboxRow[]> {
    return (await this.db.run((q) => q('outbox').where({ ticket_id: ticketId }).orderBy('id'))).map(map);
  }
}
