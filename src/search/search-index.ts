import type { Database } from '../db/database.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { indexText } from './tokenize.js';

type Row = Record<string, unknown>;

/** Rows per UPDATE of a reindex: within SQLite's bound-parameter limit, and a bounded packet for MySQL. */
const UPDATE_ROWS = 200;

/** Where `reindex` stopped: the last ticket id it finished, so that it resumes there. */
export const REINDEX_SETTING = 'search.reindex_after';

/** A ticket's own tokens: its number, subject, and the names and addresses of its requester and collaborators. */
export function ticketTokens(t: { number: string; subject: string; people: Array<{ name: string; email: string }> }): string {
  return indexText([t.number, t.subject, ...t.people.flatMap((p) => [p.name, p.email])].join('\n'));
}

/** An entry's tokens: its text and the names of its files. Whether it is an internal note is the entry's type. */
export function entryTokens(e: { text: string; files?: ReadonlyArray<{ filename: string }> }): string {
  return indexText([e.text, ...(e.files ?? []).map((f) => f.filename)].join('\n'));
}

/**
 * Keeps the index in step with the tickets (issue 11, item 6). A new ticket and a new entry are written with
 * their tokens (`ticketTokens`, `entryTokens`), so indexing them costs nothing more; an entry moved to another
 * ticket is found there as it is. What is left is a ticket's own tokens when the people on it change (a
 * collaborator, a merge, a split): `fields`, in the change's transaction, rewritten from the tables. Deletes need
 * nothing: the tokens go with their rows.
 */
export class SearchIndex {
  constructor(
    private readonly db: Database,
    private readonly settings: SettingsRepository,
  ) {}

  /** Rewrites these tickets' own tokens from the tables (number, subject, requester, collaborators). */
  async fields(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const tickets = await this.db.run((q) => q('tickets').whereIn('id', ids).select('id', 'number', 'subject', 'user_id'));
    const collaborators = groupBy(await this.db.run((q) => q('ticket_collaborators').whereIn('ticket_id', ids).select('ticket_id', 'user_id')), 'ticket_id');
    const userIds = [...new Set([...tickets.map((t: Row) => Number(t.user_id)), ...[...collaborators.values()].flat().map((c) => Number(c.user_id))])];
    const people = groupBy(await this.db.run((q) => q('users as u').leftJoin('user_emails as e', 'e.user_id', 'u.id').whereIn('u.id', userIds).select('u.id', 'u.name', 'e.address')), 'id');
    const words = (userId: number): string[] => {
      const rows = people.get(userId) ?? [];
      return [...(rows[0] ? [rows[0].name as string] : []), ...rows.flatMap((r) => (r.address ? [r.address as string] : []))];
    };
    await this.update('tickets', tickets.map((t: Row) => {
      const userIdsOf = new Set([Number(t.user_id), ...(collaborators.get(Number(t.id)) ?? []).map((c) => Number(c.user_id))]);
      return [Number(t.id), indexText([t.number as string, t.subject as string, ...[...userIdsOf].flatMap(words)].join('\n'))];
    }));
  }

  /** Rewrites the own tokens of every ticket this person requested or is copied on: after a rename or a merge. */
  async person(userId: number): Promise<void> {
    const requested = await this.db.run((q) => q('tickets').where('user_id', userId).pluck('id'));
    const copied = await this.db.run((q) => q('ticket_collaborators').where('user_id', userId).pluck('ticket_id'));
    const ids = [...new Set([...requested, ...copied].map(Number))];
    for (let i = 0; i < ids.length; i += UPDATE_ROWS) await this.fields(ids.slice(i, i + UPDATE_ROWS));
  }

  /**
   * One step of `manage reindex`: rebuilds the next `batch` tickets after the last one done, with their entries,
   * in one transaction with the progress mark, so an interrupted run resumes where it stopped. Answers what it
   * did. The batch is chosen before the transaction, which then writes first: on SQLite a transaction that reads
   * and then writes fails at once ("database is locked") if the server wrote meanwhile, while one that writes
   * first waits its turn. A ticket opened meanwhile is indexed by its own creation.
   */
  async reindexStep(batch: number): Promise<{ done: number; lastId: number; remaining: number } | null> {
    const after = Number((await this.settings.get(REINDEX_SETTING)) ?? 0);
    const rows = await this.db.run((q) => q('tickets').where('id', '>', after).orderBy('id').limit(batch).select('id'));
    if (!rows.length) return null;
    const ids = rows.map((r: Row) => Number(r.id));
    const lastId = ids[ids.length - 1]!;
    await this.db.transaction(async () => {
      await this.settings.set(REINDEX_SETTING, String(lastId));
      await this.fields(ids);
      const entries = await this.db.run((q) => q('thread_entries').whereIn('ticket_id', ids).orderBy('id').select('id', 'body_text'));
      const files = groupBy(await this.db.run((q) => q('attachments').whereIn('ticket_id', ids).whereNotNull('entry_id').select('entry_id', 'filename')), 'entry_id');
      await this.update('thread_entries', entries.map((e: Row) => [Number(e.id), entryTokens({ text: e.body_text as string, files: (files.get(Number(e.id)) ?? []) as Array<{ filename: string }> })]));
    });
    const [left] = await this.db.run((q) => q('tickets').where('id', '>', lastId).count({ n: '*' }));
    return { done: ids.length, lastId, remaining: Number(left?.n ?? 0) };
  }

  /** Forgets where reindex stopped: the next run starts from the first ticket. */
  async restartReindex(): Promise<void> {
    await this.settings.delete(REINDEX_SETTING);
  }

  /** Sets `search_tokens` of these rows, a few hundred per UPDATE (one CASE over their ids). */
  private async update(table: 'tickets' | 'thread_entries', rows: Array<[id: number, tokens: string]>): Promise<void> {
    for (let i = 0; i < rows.length; i += UPDATE_ROWS) {
      const chunk = rows.slice(i, i + UPDATE_ROWS);
      await this.db.run((q) =>
        q(table)
          .whereIn('id', chunk.map(([id]) => id))
          .update({ search_tokens: q.raw(`CASE id ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} END`, chunk.flat()) }),
      );
    }
  }
}

function groupBy(rows: Row[], key: string): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  for (const r of rows) {
    const k = Number(r[key]);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}
