import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import { MysqlFulltext } from './mysql-fulltext.js';
import { SqliteFts } from './sqlite-fts.js';

/**
 * The full-text engine behind search (DESIGN.md §9 "search"): FTS5 on SQLite, InnoDB FULLTEXT on MariaDB and
 * MySQL, over the `search_tokens` every ticket and thread entry is written with (migration 0026). Both see only
 * our tokens (tokenize.ts), so they differ only in where the tokens are kept and in the syntax of a match. An
 * engine outside the database (OpenSearch, for sites past a few million tickets) would implement this, fed by
 * the same tokens.
 */
export interface SearchEngine {
  /**
   * Rows (`ticket_id`, a relevance `score` where higher is better) for each ticket whose own tokens or one of
   * whose entries' tokens match any of `terms`; a merged ticket's own tokens count for the ticket it went into.
   * Internal notes are left out unless `notes`.
   */
  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder;
  /** The entries (as `e`: `e.id`, `e.ticket_id`, `e.body_text`, and `score`) that match any of `terms`. */
  matchingEntries(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder;
}

export function createSearchEngine(db: Database): SearchEngine {
  return db.dialect === 'mysql' ? new MysqlFulltext() : new SqliteFts();
}
