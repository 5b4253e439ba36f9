import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import type { IndexDoc, SearchEngine } from './search-port.js';
import { encodeToken } from './tokenize.js';

/** FTS5 syntax for a term: tokens are letters and digits only, so quoting them is all the escaping there is. */
const expression = (t: Term): string => `"${t.tokens.map(encodeToken).join(' ')}"${t.prefix ? '*' : ''}`;

/**
 * SQLite: `search_fts` is a contentless FTS5 table (the tokens are not stored twice) whose rowid is the
 * `search_docs` id; a trigger on `search_docs` deletes its tokens, so cascades (a ticket deleted) clean it too.
 */
export class SqliteFts implements SearchEngine {
  constructor(private readonly db: Database) {}

  async insert(docs: IndexDoc[]): Promise<void> {
    for (const doc of docs) {
      // One row at a time: a multi-row insert answers only one id on SQLite.
      const [id] = await this.db.run((q) => q('search_docs').insert({ ticket_id: doc.ticketId, entry_id: doc.entryId, staff_only: doc.staffOnly }));
      await this.db.run((q) => q('search_fts').insert({ rowid: id, tokens: doc.tokens }));
    }
  }

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
