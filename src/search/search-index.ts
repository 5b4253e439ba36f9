import type { Database } from '../db/database.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import type { IndexDoc, SearchEngine } from './search-port.js';
import { indexText } from './tokenize.js';

type Row = Record<string, unknown>;

/** Rows per INSERT: within SQLite's bound-parameter limit, and a bounded packet for MySQL. */
const INSERT_ROWS = 200;

/** A new entry as its writer has it: indexed without reading anything back. */
export interface NewEntryDoc {
  id: number;
  ticketId: number;
  type: string;
  text: string;
  files?: Array<{ filename: string }>;
}

/** A new ticket's fields, as its creator has them. */
export interface NewTicketDoc {
  id: number;
  number: string;
  subject: string;
  people: Array<{ name: string; email: string }>;
}

/** Where `reindex` stopped: the last ticket id it finished, so that it resumes there. */
export const REINDEX_SETTING = 'search.reindex_after';

/**
 * Keeps the index in step with the tickets (issue 11, item 6). Every change that alters what a ticket can be
 * found by makes one of these calls in its own transaction, so the index never lags, on any node: `addTicket`
 * and `addEntry` for what was just written (from the caller's values, one INSERT); `tickets` for a merge or a
 * split, `fields` for the people on a ticket (rewritten from the tables that hold the text, so a second call
 * does no harm). Deletes need no call: the rows cascade with their ticket and entry.
 */
export class SearchIndex {
  constructor(
    private readonly db: Database,
    private readonly engine: SearchEngine,
    private readonly settings: SettingsRepository,
  ) {}

  /** A ticket just opened, with its first entry: one INSERT, nothing read back. */
  async addTicket(t: NewTicketDoc, first: NewEntryDoc): Promise<void> {
    const text = [t.number, t.subject, ...t.people.flatMap((p) => [p.name, p.email])].join('\n');
    await this.insert([{ ticketId: t.id, entryId: null, staffOnly: false, tokens: indexText(text) }, newEntryDoc(first)]);
  }

  /** An entry just added to a ticket (reply, note, mail): one INSERT. */
  async addEntry(e: NewEntryDoc): Promise<void> {
    await this.insert([newEntryDoc(e)]);
  }

  /**
   * Rewrites every row of these tickets. A ticket merged into another (an alias) has none: its entries moved to
   * the survivor, and its number and subject are found through the survivor's fields row.
   */
  async tickets(ids: number[]): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction(async () => {
      await this.db.run((q) => q('search_docs').whereIn('ticket_id', ids).delete());
      await this.insert(await this.docsOf(ids));
    });
  }

  /** Rewrites a ticket's fields row (subject, number, requester, collaborators). */
  async fields(ticketId: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('search_docs').where('ticket_id', ticketId).whereNull('entry_id').delete());
      await this.insert(await this.fieldDocs([ticketId]));
    });
  }

  /**
   * One step of `manage reindex`: rebuilds the next `batch` tickets after the last one done, in one transaction
   * with the progress mark, so an interrupted run resumes where it stopped. Answers what it did. The batch is
   * chosen before the transaction, which then writes first: on SQLite a transaction that reads and then writes
   * fails at once ("database is locked") if the server wrote meanwhile, while one that writes first waits its
   * turn. A ticket opened meanwhile is indexed by its own creation.
   */
  async reindexStep(batch: number): Promise<{ done: number; lastId: number; remaining: number } | null> {
    const after = Number((await this.settings.get(REINDEX_SETTING)) ?? 0);
    const rows = await this.db.run((q) => q('tickets').where('id', '>', after).orderBy('id').limit(batch).select('id'));
    if (!rows.length) return null;
    const ids = rows.map((r: Row) => Number(r.id));
    const lastId = ids[ids.length - 1]!;
    await this.db.transaction(async () => {
      await this.tickets(ids);
      await this.settings.set(REINDEX_SETTING, String(lastId));
    });
    const [left] = await this.db.run((q) => q('tickets').where('id', '>', lastId).count({ n: '*' }));
    return { done: ids.length, lastId, remaining: Number(left?.n ?? 0) };
  }

  /** Forgets where reindex stopped: the next run starts from the first ticket. */
  async restartReindex(): Promise<void> {
    await this.settings.delete(REINDEX_SETTING);
  }

  private async insert(docs: IndexDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += INSERT_ROWS) {
      const rows = docs.slice(i, i + INSERT_ROWS).map((d) => ({ ticket_id: d.ticketId, entry_id: d.entryId, staff_only: d.staffOnly, tokens: d.tokens }));
      await this.db.run((q) => q(this.engine.input).insert(rows));
    }
  }

  private async docsOf(ids: number[]): Promise<IndexDoc[]> {
    const fields = await this.fieldDocs(ids);
    const owners = fields.map((d) => d.ticketId);
    const entries = await this.db.run((q) => q('thread_entries').whereIn('ticket_id', owners).orderBy('id').select('id', 'ticket_id', 'type', 'body_text'));
    const files = groupBy(await this.db.run((q) => q('attachments').whereIn('ticket_id', owners).select('entry_id', 'filename')), 'entry_id');
    return [
      ...fields,
      ...entries.map((e: Row) => newEntryDoc({ id: Number(e.id), ticketId: Number(e.ticket_id), type: e.type as string, text: e.body_text as string, files: (files.get(Number(e.id)) ?? []) as Array<{ filename: string }> })),
    ];
  }

  /** The fields rows of these tickets, aliases' numbers and subjects included; none for aliases themselves. */
  private async fieldDocs(ids: number[]): Promise<IndexDoc[]> {
    const tickets = await this.db.run((q) =>
      q('tickets').where((w) => w.whereIn('id', ids).orWhereIn('merged_into_id', ids)).select('id', 'number', 'subject', 'user_id', 'merged_into_id'),
    );
    const wanted = new Set(ids);
    const owners = tickets.filter((t: Row) => t.merged_into_id === null && wanted.has(Number(t.id))).map((t: Row) => Number(t.id));
    if (!owners.length) return [];
    // A ticket's own row and its aliases' rows, by the ticket they belong to.
    const own = groupBy(tickets.map((t: Row) => ({ ...t, owner: Number(t.merged_into_id ?? t.id) })), 'owner');
    const collaborators = groupBy(await this.db.run((q) => q('ticket_collaborators').whereIn('ticket_id', owners).select('ticket_id', 'user_id')), 'ticket_id');
    const userIds = [...new Set([...tickets.map((t: Row) => Number(t.user_id)), ...[...collaborators.values()].flat().map((c) => Number(c.user_id))])];
    const people = groupBy(await this.db.run((q) => q('users as u').leftJoin('user_emails as e', 'e.user_id', 'u.id').whereIn('u.id', userIds).select('u.id', 'u.name', 'e.address')), 'id');
    const words = (userId: number): string[] => {
      const rows = people.get(userId) ?? [];
      return [...(rows[0] ? [rows[0].name as string] : []), ...rows.flatMap((r) => (r.address ? [r.address as string] : []))];
    };
    return owners.map((id: number) => {
      const mine = own.get(id) ?? [];
      const userIdsOf = new Set([...mine.map((t) => Number(t.user_id)), ...(collaborators.get(id) ?? []).map((c) => Number(c.user_id))]);
      const text = [...mine.flatMap((t) => [t.number as string, t.subject as string]), ...[...userIdsOf].flatMap(words)];
      return { ticketId: id, entryId: null, staffOnly: false, tokens: indexText(text.join('\n')) };
    });
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

/** An entry's row: its text and the names of its files; a note is for staff only. */
function newEntryDoc(e: NewEntryDoc): IndexDoc {
  return { ticketId: e.ticketId, entryId: e.id, staffOnly: e.type === 'note', tokens: indexText([e.text, ...(e.files ?? []).map((f) => f.filename)].join('\n')) };
}

