import type { Knex } from 'knex';
import type { Term } from './query.js';
import type { SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

/** FTS5 syntax for a term: tokens are letters and digits only, so quoting them is all the escaping there is. */
const expression = (t: Term): string => `"${t.tokens.map(encodeToken).join(' ')}"${t.prefix ? '*' : ''}`;

const match = (terms: Term[]): string => terms.map(expression).join(' OR ');

/**
 * SQLite: `ticket_fts` and `entry_fts` are contentless FTS5 tables whose rowids are the tickets' and entries'
 * ids, filled by triggers from the rows' `search_tokens` (see migration 0026). CROSS JOIN fixes SQLite's join
 * order: the MATCH drives the loop, each match looks up its row. `rank` is bm25, lower for better matches; the
 * bm25() function itself refuses to run once SQLite flattens this into the caller's GROUP BY.
 */
export class SqliteFts implements SearchEngine {
  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    const m = match(terms);
    const tickets = q('ticket_fts')
      .joinRaw('CROSS JOIN tickets AS t ON t.id = ticket_fts.rowid')
      .whereRaw('ticket_fts MATCH ?', [m])
      .select(q.raw('COALESCE(t.merged_into_id, t.id) as ticket_id'), q.raw('-ticket_fts.rank as score'));
    return tickets.unionAll(this.entries(q, m, notes).select('e.ticket_id', q.raw('-entry_fts.rank as score')));
  }

  matchingEntries(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    return this.entries(q, match(terms), notes).select('e.id', 'e.ticket_id', 'e.body_text', q.raw('-entry_fts.rank as score'));
  }

  private entries(q: Knex, m: string, notes: boolean): Knex.QueryBuilder {
    const query = q('entry_fts').joinRaw('CROSS JOIN thread_entries AS e ON e.id = entry_fts.rowid').whereRaw('entry_fts MATCH ?', [m]);
    if (!notes) query.whereNot('e.type', 'note');
    return query;
  }
}
