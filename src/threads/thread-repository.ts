import type { Database } from '../db/database.js';
import { fromDbTimeRequired, toDbTime } from '../db/time.js';

export const ENTRY_TYPES = ['message', 'response', 'note'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

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
}

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
});

export class ThreadRepository {
  constructor(private readonly db: Database) {}

  async insert(e: NewEntry): Promise<number> {
    const [id] = await this.db.run((q) =>
      q('thread_entries').insert({
        ticket_id: e.ticketId,
        type: e.type,
        staff_id: e.staffId ?? null,
        user_id: e.userId ?? null,
        author_name: e.authorName.slice(0, 120),
        body_text: e.bodyText,
        body_html: e.bodyHtml ?? null,
        source: e.source,
        created_at: toDbTime(e.createdAt),
      }),
    );
    return Number(id);
  }

  async list(ticketId: number, opts: { includeNotes: boolean }): Promise<ThreadEntry[]> {
    const rows = await this.db.run((q) => {
      const query = q('thread_entries').where({ ticket_id: ticketId }).orderBy('id');
      if (!opts.includeNotes) query.whereNot('type', 'note');
      return query;
    });
    return rows.map(map);
  }

  async get(id: number): Promise<ThreadEntry | null> {
    const r = await this.db.run((q) => q('thread_entries').where({ id }).first());
    return r ? map(r) : null;
  }

  async latestId(ticketId: number): Promise<number> {
    const r = await this.db.run((q) => q('thread_entries').where({ ticket_id: ticketId }).max({ m: 'id' }).first());
    return Number(r?.m ?? 0);
  }
}
