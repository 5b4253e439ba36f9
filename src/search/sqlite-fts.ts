import type { Knex } from 'knex';
import type { Term } from './query.js';
import type { SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

/** FTS5 syntax for a term: tokens are letters and digits only, so quoting them is all the escaping there is. */
const expression = (t: Term): string => `"${t.tokens.map(encodeToken).join(' ')}"${t.prefix ? '*' : ''}`;

/**
 * SQLite: `search_fts` is a contentless FTS5 table (the tokens are not stored twice) whose rowid is the
 * `search_docs` id. Rows go in through the view `search_input`, whose trigger writes both; a trigger on
 * `search_docs` deletes the tokens, so cascades (a ticket deleted) clean them too (see the migration).
 */
export class SqliteFts implements SearchEngine {
  readonly input = 'search_input';

  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder {
    const query = q('search_fts')
      // CROSS JOIN fixes SQLite's join order: the MATCH drives the loop, each match looks up its row.
      .joinRaw('CROSS JOIN search_docs AS d ON d.id = search_fts.rowid')
      .whereRaw('search_fts MATCH ?', [terms.map(expression).join(' OR ')])
      // `rank` is bm25, lower for better matches. The bm25() function itself refuses to run once SQLite
      // flattens this into the caller's GROUP BY ("unable to use function bm25 in the requested context").
      .select('d.ticket_id', q.raw('-search_fts.rank as score'));
    if (!notes) query.where('d.staff_only', false);
    return query;
  }
}
