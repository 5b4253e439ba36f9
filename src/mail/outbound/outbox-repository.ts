import type { Knex } from 'knex';
import type { Database } from '../../db/database.js';
import { deleteInBatches } from '../../db/purge.js';
import { fromDbTime, fromDbTimeRequired, toDbTime, type Clock } from '../../db/time.js';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxMessage {
  ticketId: number | null;
  entryId: number | null;
  kind: string;
  to: string[];
  cc?: string[];
  subject: string;
  bodyText: string;
  bodyHtml: string | null;
  /** Extra headers: In-Reply-To, References, Auto-Submitted. */
  headers: Record<string, string>;
  /** Without angle brackets; fixed at enqueue time so that every retry sends the same id. */
  messageId?: string | null;
  fromAddress?: string | null;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  cc: string[];
  messageId: string | null;
  fromAddress: string | null;
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
  cc: r.cc_addresses ? (JSON.parse(r.cc_addresses as string) as string[]) : [],
  subject: r.subject as string,
  bodyText: r.body_text as string,
  bodyHtml: (r.body_html as string | null) ?? null,
  headers: JSON.parse(r.headers as string) as Record<string, string>,
  messageId: (r.message_id as string | null) ?? null,
  fromAddress: (r.from_address as string | null) ?? null,
  status: r.status as OutboxStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: fromDbTimeRequired(r.next_attempt_at as string),
  lastError: (r.last_error as string | null) ?? null,
  createdAt: fromDbTimeRequired(r.created_at as string),
  sentAt: fromDbTime(r.sent_at as string | null),
});

const ENQUEUE_BATCH = 50;

export class OutboxRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Called inside the transaction of the change that causes the mail, so both commit or neither does. */
  async enqueue(m: OutboxMessage): Promise<number> {
    const [id] = await this.db.run((q) => q('outbox').insert(this.row(m, toDbTime(this.clock.now()))));
    return Number(id);
  }

  /**
   * Several mails about one event (an alert to each agent of a department) in one statement per batch rather
   * than one per agent. Batches stay well under MySQL's packet limit: alert bodies are short excerpts.
   */
  async enqueueMany(messages: OutboxMessage[]): Promise<void> {
    const now = toDbTime(this.clock.now());
    for (let i = 0; i < messages.length; i += ENQUEUE_BATCH) {
      const rows = messages.slice(i, i + ENQUEUE_BATCH).map((m) => this.row(m, now));
      await this.db.run((q) => q('outbox').insert(rows));
    }
  }

  private row(m: OutboxMessage, now: string): Record<string, unknown> {
    return {
      ticket_id: m.ticketId,
      entry_id: m.entryId,
      kind: m.kind,
      to_addresses: JSON.stringify(m.to),
      cc_addresses: m.cc?.length ? JSON.stringify(m.cc) : null,
      subject: m.subject.slice(0, 998),
      body_text: m.bodyText,
      body_html: m.bodyHtml,
      headers: JSON.stringify(m.headers),
      message_id: m.messageId ?? null,
      from_address: m.fromAddress ?? null,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    };
  }

  async get(id: number): Promise<OutboxRow | null> {
    const r = await this.db.run((q) => q('outbox').where({ id }).first());
    return r ? map(r) : null;
  }

  async list(opts: { status?: OutboxStatus; beforeId?: number | null; limit: number }): Promise<OutboxRow[]> {
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
    const out = { pending: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 } as Record<OutboxStatus, number>;
    for (const r of rows as Array<Record<string, unknown>>) out[r.status as OutboxStatus] = Number(r.n);
    return out;
  }

  async forTicket(ticketId: number): Promise<OutboxRow[]> {
    return (await this.db.run((q) => q('outbox').where({ ticket_id: ticketId }).orderBy('id'))).map(map);
  }

  /**
   * Claims up to `limit` due rows for one sender, in two steps because SQLite's UPDATE ignores ORDER BY and
   * LIMIT (DESIGN.md §9): pick candidate ids, mark those still claimable with our token, read back by token.
   * A row another node marked in between fails the conditional UPDATE and is simply not ours. A claim lives
   * while its sender touches it (touchClaims); rows whose claim was last touched before `staleBefore` (their
   * node died mid-send) are claimable again. Candidates are read as two index ranges rather than one OR, which
   * MariaDB answered by walking the primary key past every sent row.
   */
  async claim(opts: { token: string; now: Date; staleBefore: Date; limit: number }): Promise<OutboxRow[]> {
    const now = toDbTime(opts.now);
    const stale = toDbTime(opts.staleBefore);
    const due = (w: Knex.QueryBuilder) => w.where('status', 'pending').where('next_attempt_at', '<=', now);
    const abandoned = (w: Knex.QueryBuilder) => w.where('status', 'sending').where('claimed_at', '<', stale);
    const pick = async (filter: (w: Knex.QueryBuilder) => Knex.QueryBuilder, order: string[], limit: number): Promise<number[]> =>
      limit > 0 ? (await this.db.run((q) => q('outbox').where(filter).orderBy(order).limit(limit).pluck('id'))).map(Number) : [];
    const stolen = await pick(abandoned, ['id'], opts.limit);
    // Oldest due first, in the (status, next_attempt_at) index's own order: a backlog is not sorted per batch.
    const ids = [...stolen, ...(await pick(due, ['next_attempt_at', 'id'], opts.limit - stolen.length))];
    if (!ids.length) return [];
    await this.db.run((q) =>
      q('outbox').whereIn('id', ids).where((w) => w.where(due).orWhere(abandoned)).update({ status: 'sending', claim_token: opts.token, claimed_at: now }),
    );
    return (await this.db.run((q) => q('outbox').where('claim_token', opts.token).orderBy('id'))).map(map);
  }

  /** The claim's heartbeat: its rows stay ours while their sender is alive. */
  async touchClaims(token: string, at: Date): Promise<void> {
    await this.db.run((q) => q('outbox').where({ claim_token: token, status: 'sending' }).update({ claimed_at: toDbTime(at) }));
  }

  /** Hands back claimed rows not sent yet (the sender is stopping), due at once for whichever node drains next. */
  async releaseClaims(token: string): Promise<number> {
    return this.db.run((q) => q('outbox').where({ claim_token: token, status: 'sending' }).update({ status: 'pending', claim_token: null }));
  }

  /**
   * Deletes, in batches of `batchSize`, rows in `statuses` created before `cutoff`; returns how many went.
   * Stops between batches once `signal` aborts.
   */
  async purge(statuses: OutboxStatus[], cutoff: Date, batchSize: number, signal?: AbortSignal): Promise<number> {
    return deleteInBatches(this.db, 'outbox', (w) => w.whereIn('status', statuses).where('created_at', '<', toDbTime(cutoff)), batchSize, signal);
  }

  /** Marks a row sent; `bodies`, when given, replace the stored ones (with credentials taken out). */
  async markSent(id: number, token: string, at: Date, bodies?: { bodyText: string; bodyHtml: string | null }): Promise<void> {
    const stored = bodies ? { body_text: bodies.bodyText, body_html: bodies.bodyHtml } : {};
    await this.db.run((q) =>
      q('outbox').where({ id, claim_token: token }).update({ ...stored, status: 'sent', sent_at: toDbTime(at), claim_token: null, last_error: null, attempts: q.raw('attempts + 1') }),
    );
  }

  async markRetry(id: number, token: string, r: { attempts: number; nextAttemptAt: Date; error: string }): Promise<void> {
    await this.db.run((q) =>
      q('outbox').where({ id, claim_token: token }).update({ status: 'pending', claim_token: null, attempts: r.attempts, next_attempt_at: toDbTime(r.nextAttemptAt), last_error: r.error }),
    );
  }

  async markFailed(id: number, token: string, r: { attempts: number; error: string }): Promise<void> {
    await this.db.run((q) => q('outbox').where({ id, claim_token: token }).update({ status: 'failed', claim_token: null, attempts: r.attempts, last_error: r.error }));
  }

  /**
   * A failed row back in the queue, or a waiting one brought forward, due now; false when the row is neither
   * (a sender claimed it in between, or it went out).
   */
  async retry(id: number, at: Date): Promise<boolean> {
    const n = await this.db.run((q) => q('outbox').where({ id }).whereIn('status', ['failed', 'pending']).update({ status: 'pending', attempts: 0, next_attempt_at: toDbTime(at) }));
    return n === 1;
  }

  /** Withdraws every waiting row about a ticket (marked as spam, or deleted); rows a sender has already claimed go out. */
  async cancelPendingForTicket(ticketId: number): Promise<number> {
    return this.db.run((q) => q('outbox').where({ ticket_id: ticketId, status: 'pending' }).update({ status: 'cancelled' }));
  }

  /** Withdraws a waiting or failed row so it is never sent; false when a sender has it or it went out. */
  async cancel(id: number): Promise<boolean> {
    const n = await this.db.run((q) => q('outbox').where({ id }).whereIn('status', ['failed', 'pending']).update({ status: 'cancelled' }));
    return n === 1;
  }
}
