import type { Knex } from 'knex';
import type { Attachment, AttachmentRepository } from '../attachments/attachment-repository.js';
import { entryTokens } from '../search/search-index.js';
import type { Database } from '../db/database.js';
import { UniqueViolation } from '../db/errors.js';
import { fromDbTimeRequired, toDbTime } from '../db/time.js';
import { messageIdHash } from '../mail/message-id.js';

export const ENTRY_TYPES = ['message', 'response', 'note'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** How the sender of an inbound mail was verified (DESIGN.md §11); null for entries that did not come by mail. */
export const VERIFICATIONS = ['verified', 'unverified', 'suspicious'] as const;
export type Verification = (typeof VERIFICATIONS)[number];
const isVerification = (v: unknown): v is Verification => (VERIFICATIONS as readonly unknown[]).includes(v);

/**
 * A note the system wrote rather than a person: 'bounce', a delivery report on the ticket whose mail it was.
 * Its author and first line are said in the reader's language where it is shown, never stored.
 */
export const SYSTEM_KINDS = ['bounce'] as const;
export type SystemKind = (typeof SYSTEM_KINDS)[number];
const isSystemKind = (v: unknown): v is SystemKind => (SYSTEM_KINDS as readonly unknown[]).includes(v);

export interface ThreadEntry {
  id: number;
  ticketId: number;
  type: EntryType;
  staffId: number | null;
  userId: number | null;
  authorName: string;
  bodyText: string;
  bodyHtml: string | null;
  source: string;
  createdAt: Date;
  /** The From address of an entry that came by mail. */
  senderEmail: string | null;
  verification: Verification | null;
  /** Threaded by a Message-ID, but its sender is neither requester, collaborator nor agent. */
  fromNonParticipant: boolean;
  /** Who a response was mailed to; null for entries that were not mailed (and responses from before this was kept). */
  recipients: Recipients | null;
  systemKind: SystemKind | null;
  /** The mail's text was longer than an entry holds: this is its start; the raw message keeps all of it. */
  bodyTruncated: boolean;
}

export interface Recipients {
  to: string[];
  cc: string[];
}

function parseRecipients(v: unknown): Recipients | null {
  if (typeof v !== 'string' || !v) return null;
  try {
    const r = JSON.parse(v) as Partial<Recipients>;
    const list = (x: unknown) => (Array.isArray(x) ? x.filter((a): a is string => typeof a === 'string') : []);
    return { to: list(r.to), cc: list(r.cc) };
  } catch {
    // A value this code did not write: show the entry without its addressees rather than fail the page.
    return null;
  }
}

export interface NewEntry {
  ticketId: number;
  type: EntryType;
  staffId?: number | null;
  userId?: number | null;
  authorName: string;
  bodyText: string;
  bodyHtml?: string | null;
  source: string;
  createdAt: Date;
  senderEmail?: string | null;
  verification?: Verification | null;
  fromNonParticipant?: boolean;
  /** The Message-ID the entry arrived with by mail: replies quoting it thread to its ticket. */
  messageId?: string | null;
  /** Its agents' alerts are still to be written (pending-alerts.ts). */
  alertPending?: boolean;
  recipients?: Recipients | null;
  systemKind?: SystemKind | null;
  bodyTruncated?: boolean;
  /** The files stored with it: their names are found by search with the entry. */
  files?: ReadonlyArray<{ filename: string }>;
}

/** An entry whose alerts are still to be written. */
export interface PendingAlert {
  entryId: number;
  ticketId: number;
  authorName: string;
  bodyText: string;
  messageId: string | null;
  createdAt: Date;
}

/** An entry with this Message-ID exists already: the same mail delivered again, or to a second mailbox. */
export class DuplicateMessageId extends Error {}

/**
 * What a ThreadEntry is read from; prefixed with `entry_` where a thread is joined to its ticket. Never `*`:
 * the search tokens (as long as the text) stay in the table.
 */
const COLUMNS = ['id', 'ticket_id', 'type', 'staff_id', 'user_id', 'author_name', 'body_text', 'body_html', 'source', 'created_at', 'sender_email', 'verification', 'from_non_participant', 'recipients', 'system_kind', 'body_truncated'] as const;
const JOINED = 'entry_';

const map = (r: Record<string, unknown>): ThreadEntry => ({
  id: Number(r.id),
  ticketId: Number(r.ticket_id),
  type: r.type as EntryType,
  staffId: r.staff_id === null ? null : Number(r.staff_id),
  userId: r.user_id === null ? null : Number(r.user_id),
  authorName: r.author_name as string,
  bodyText: r.body_text as string,
  bodyHtml: (r.body_html as string | null) ?? null,
  source: r.source as string,
  createdAt: fromDbTimeRequired(r.created_at as string),
  senderEmail: (r.sender_email as string | null) ?? null,
  verification: isVerification(r.verification) ? r.verification : null,
  fromNonParticipant: Boolean(r.from_non_participant),
  recipients: parseRecipients(r.recipients),
  systemKind: isSystemKind(r.system_kind) ? r.system_kind : null,
  bodyTruncated: Boolean(r.body_truncated),
});

export class ThreadRepository {
  /** Every message, response and note is one: built once. */
  private readonly insertRow: (row: Record<string, unknown>) => Promise<number>;

  constructor(private readonly db: Database) {
    this.insertRow = db.inserter('thread_entries');
  }

  /** Throws DuplicateMessageId when an entry with `messageId` exists (the unique key, so also across nodes). */
  async insert(e: NewEntry): Promise<number> {
    return this.insertRow({
      ticket_id: e.ticketId,
      type: e.type,
      staff_id: e.staffId ?? null,
      user_id: e.userId ?? null,
      author_name: e.authorName.slice(0, 120),
      body_text: e.bodyText,
      body_html: e.bodyHtml ?? null,
      source: e.source,
      created_at: toDbTime(e.createdAt),
      sender_email: e.senderEmail ?? null,
      verification: e.verification ?? null,
      from_non_participant: e.fromNonParticipant ?? false,
      message_id_hash: e.messageId ? messageIdHash(e.messageId) : null,
      message_id: e.messageId ?? null,
      alert_pending: e.alertPending ? true : null,
      recipients: e.recipients ? JSON.stringify(e.recipients) : null,
      system_kind: e.systemKind ?? null,
      body_truncated: e.bodyTruncated ?? false,
      // Indexed by the same INSERT (migration 0026): a reply costs search no statement.
      search_tokens: entryTokens({ text: e.bodyText, files: e.files }),
    }).catch((err: unknown) => {
      // The entry's other unique keys are its id alone, so a violation here is the Message-ID's.
      throw e.messageId && err instanceof UniqueViolation ? new DuplicateMessageId(err.message) : err;
    });
  }

  /** SQL for a column holding how many entries the ticket whose id is bound at `ticketId` has. */
  countSql(ticketId: string, opts: { includeNotes: boolean }): string {
    return `(SELECT COUNT(*) FROM thread_entries c WHERE c.ticket_id = ${ticketId}${opts.includeNotes ? '' : " AND c.type <> 'note'"})`;
  }

  async list(ticketId: number, opts: { includeNotes: boolean }): Promise<ThreadEntry[]> {
    return (await this.rows(ticketId, opts)).map(map);
  }

  /**
   * The thread, each entry with its files, joined to a query over tickets aliased `t`: one row per entry (one
   * with null entry columns for a ticket without any), in no particular order. Read the entries back, oldest
   * first, with `fromJoined`. Lets the ticket page read a ticket and its thread in one statement. Unordered
   * because MariaDB would sort the joined rows, bodies and all, through a temporary table. `latest`: only the
   * first entry and the latest so many, for a page that opens a long thread folded.
   */
  joinThread(q: Knex, tickets: Knex.QueryBuilder, opts: { includeNotes: boolean; latest?: number }, attachments: AttachmentRepository): Knex.QueryBuilder {
    const notes = opts.includeNotes ? '' : " AND g.type <> 'note'";
    return tickets
      .leftJoin('thread_entries as e', (j) => {
        j.on('e.ticket_id', 't.id');
        if (!opts.includeNotes) j.andOn('e.type', '<>', q.raw('?', ['note']));
        // By id, which walks the (ticket_id, id) index: ids grow with time, also across merged tickets.
        if (opts.latest) {
          const first = `(SELECT MIN(g.id) FROM thread_entries g WHERE g.ticket_id = t.id${notes})`;
          const cut = `COALESCE((SELECT g.id FROM thread_entries g WHERE g.ticket_id = t.id${notes} ORDER BY g.id DESC LIMIT 1 OFFSET ${Math.trunc(opts.latest) - 1}), 0)`;
          j.andOn(q.raw(`(e.id = ${first} OR e.id >= ${cut})`));
        }
      })
      .select(...COLUMNS.map((c) => `e.${c} as ${JOINED}${c}`), q.raw(`${attachments.listJson('e')} AS ${JOINED}attachments_json`));
  }

  fromJoined(rows: Array<Record<string, unknown>>, attachments: AttachmentRepository): Array<ThreadEntry & { attachments: Attachment[] }> {
    return rows
      .filter((r) => r[`${JOINED}id`] !== null)
      .map((r) => ({ ...map(Object.fromEntries(COLUMNS.map((c) => [c, r[`${JOINED}${c}`]]))), attachments: attachments.fromJson(r[`${JOINED}attachments_json`]) }))
      // By time, then id: entries of merged tickets keep their times and interleave with the survivor's.
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
  }

  private rows(ticketId: number, opts: { includeNotes: boolean }): Promise<Array<Record<string, unknown>>> {
    return this.db.run((q) => {
      const query = q('thread_entries as e').where('e.ticket_id', ticketId).orderBy('e.id').select(COLUMNS.map((c) => `e.${c}`));
      if (!opts.includeNotes) query.whereNot('e.type', 'note');
      return query;
    });
  }

  async get(id: number): Promise<ThreadEntry | null> {
    const r = await this.db.run((q) => q('thread_entries').where({ id }).first(COLUMNS));
    return r ? map(r) : null;
  }

  /** Ids of the entries added after `afterId`, oldest first: what an agent who saw up to `afterId` has not seen. */
  async idsAfter(ticketId: number, afterId: number): Promise<number[]> {
    const rows = await this.db.run((q) => q('thread_entries').where({ ticket_id: ticketId }).where('id', '>', afterId).orderBy('id').select('id'));
    return rows.map((r: Record<string, unknown>) => Number(r.id));
  }

  /** After an agent's decision about a non-participant's entry: it is no longer flagged. */
  async clearNonParticipant(entryId: number): Promise<void> {
    await this.db.run((q) => q('thread_entries').where({ id: entryId }).update({ from_non_participant: false }));
  }

  /** Moves an entry with its attachments (and so its Message-ID) to another ticket. */
  async moveEntry(entryId: number, toTicketId: number): Promise<void> {
    await this.db.run((q) => q('attachments').where({ entry_id: entryId }).update({ ticket_id: toTicketId }));
    await this.db.run((q) => q('thread_entries').where({ id: entryId }).update({ ticket_id: toTicketId, from_non_participant: false }));
  }

  /** A merge: every entry of these tickets, with its files, goes to the surviving ticket (keeping time and Message-ID). */
  /** A user merge: what the merged user wrote is the survivor's. */
  async moveAuthor(fromUserId: number, toUserId: number): Promise<void> {
    await this.db.run((q) => q('thread_entries').where('user_id', fromUserId).update({ user_id: toUserId }));
  }

  async moveTicketEntries(fromTicketIds: number[], toTicketId: number): Promise<void> {
    await this.db.run((q) => q('attachments').whereIn('ticket_id', fromTicketIds).update({ ticket_id: toTicketId }));
    await this.db.run((q) => q('thread_entries').whereIn('ticket_id', fromTicketIds).update({ ticket_id: toTicketId }));
  }

  /** Entries stored under any of these Message-ID hashes, the most recent first, with their tickets. */
  async storedMessageIds(hashes: string[]): Promise<Array<{ hash: string; ticketId: number }>> {
    if (!hashes.length) return [];
    const rows = await this.db.run((q) => q('thread_entries').whereIn('message_id_hash', hashes).orderBy('id', 'desc').select('message_id_hash', 'ticket_id'));
    return rows.map((r: Record<string, unknown>) => ({ hash: r.message_id_hash as string, ticketId: Number(r.ticket_id) }));
  }

  /** The oldest `limit` entries whose alerts are still to be written. */
  async pendingAlerts(limit: number): Promise<PendingAlert[]> {
    const rows = await this.db.run((q) =>
      q('thread_entries').where('alert_pending', true).orderBy('id').limit(limit).select('id', 'ticket_id', 'author_name', 'body_text', 'message_id', 'created_at'),
    );
    return rows.map((r: Record<string, unknown>) => ({
      entryId: Number(r.id),
      ticketId: Number(r.ticket_id),
      authorName: r.author_name as string,
      bodyText: r.body_text as string,
      messageId: (r.message_id as string | null) ?? null,
      createdAt: fromDbTimeRequired(r.created_at as string),
    }));
  }

  /** Clears the mark of those still pending; returns how many were. */
  async clearPendingAlerts(entryIds: number[]): Promise<number> {
    return this.db.run((q) => q('thread_entries').whereIn('id', entryIds).where('alert_pending', true).update({ alert_pending: null }));
  }

  /** The Message-IDs of a ticket's entries that came in by mail, oldest first. */
  async messageIds(ticketId: number): Promise<string[]> {
    const rows = await this.db.run((q) => q('thread_entries').where({ ticket_id: ticketId }).whereNotNull('message_id_hash').orderBy('id').select('message_id'));
    return rows.map((r: Record<string, unknown>) => r.message_id as string);
  }
}
