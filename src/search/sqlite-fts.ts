import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import type { ProbeRow, SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

type Row = Record<string, unknown>;

/** FTS5 syntax for a term: tokens are letters and digits only, so quoting them is all the escaping there is. */
const expression = (t: Term): string => `"${t.tokens.map(encodeToken).join(' ')}"${t.prefix ? '*' : ''}`;

const match = (terms: Term[]): string => terms.map(expression).join(' OR ');

/**
 * SQLite: `ticket_fts` and `entry_fts` are contentless FTS5 tables whose rowids are the tickets' and entries'
 * ids, filled by triggers from the rows' `search_tokens` (see migration 0026).
 *
 * A probe walks the match newest first (FTS5 reads rowids in either order) and stops at its limit, so neither
 * bm25 (`rank`) nor the row lookups after it cost more for a common word. The checks within given tickets go
 * the other way: the tickets' own rows are found by index, and a MATCH without rank, about a millisecond even
 * for a common word, says which of them match. The unary `+` keeps SQLite from driving the loop from that
 * MATCH instead (a row lookup per match in the whole desk).
 */
export class SqliteFts implements SearchEngine {
  async probe(db: Database, term: Term, limit: number): Promise<{ rows: ProbeRow[]; complete: boolean }> {
    const m = expression(term);
    const rows: Row[] = await db.run((q) => {
      const newest = (fts: string) => q(fts).select('rowid', 'rank').whereRaw(`${fts} MATCH ?`, [m]).orderBy('rowid', 'desc').limit(limit + 1).as('f');
      const tickets = q.from(newest('ticket_fts')).joinRaw('CROSS JOIN tickets AS t ON t.id = f.rowid')
        .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'), q.raw('-f.rank as score'), q.raw('0 as entry'), q.raw('0 as note'));
      const entries = q.from(newest('entry_fts')).joinRaw('CROSS JOIN thread_entries AS e ON e.id = f.rowid')
        .select('e.ticket_id', q.raw('-f.rank as score'), q.raw('1 as entry'), q.raw("e.type = 'note' as note"));
      return tickets.unionAll(entries);
    });
    const probed = rows.map((r) => ({ ticketId: Number(r.ticket_id), score: Number(r.score), entry: Number(r.entry) === 1, note: Number(r.note) === 1 }));
    const fields = probed.filter((r) => !r.entry).length;
    return { rows: probed, complete: fields <= limit && probed.length - fields <= limit };
  }

  async within(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Set<number>> {
    const m = match(terms);
    const rows: Row[] = await db.run((q) => {
      const tickets = q('tickets as t')
        .where((w) => w.whereIn('t.id', ticketIds).orWhereIn('t.merged_into_id', ticketIds))
        .whereRaw('+t.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)', [m])
        .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'));
      return tickets.unionAll(this.entries(q, m, notes, ticketIds).select('e.ticket_id'));
    });
    return new Set(rows.map((r) => Number(r.ticket_id)));
  }

  async entriesWithin(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Array<{ id: number; ticketId: number; text: string }>> {
    const rows: Row[] = await db.run((q) => this.entries(q, match(terms), notes, ticketIds).select('e.id', 'e.ticket_id', 'e.body_text'));
    return rows.map((r) => ({ id: Number(r.id), ticketId: Number(r.ticket_id), text: r.body_text as string }));
  }

  private entries(q: Knex, m: string, notes: boolean, ticketIds: number[]): Knex.QueryBuilder {
    const query = q('thread_entries as e').whereIn('e.ticket_id', ticketIds).whereRaw('+e.id IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)', [m]);
    if (!notes) query.whereNot('e.type', 'note');
    return query;
  }
}
