import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import { MysqlFulltext } from './mysql-fulltext.js';
import { SqliteFts } from './sqlite-fts.js';

/** A row of the index: a ticket's fields (`entryId` null) or one thread entry, as marked tokens (tokenize.ts). */
export interface IndexDoc {
  ticketId: number;
  entryId: number | null;
  /** An internal note: matches only for staff. */
  staffOnly: boolean;
  tokens: string;
}

/**
 * The full-text engine behind search (DESIGN.md §9 "search"): FTS5 on SQLite, InnoDB FULLTEXT on MariaDB and
 * MySQL. Both see only our tokens, so they differ only in how a row's tokens are stored and in the syntax of a
 * match. An engine outside the database (OpenSearch, for sites past a few million tickets) would implement this
 * and keep `search_docs` as its outbox.
 */
export interface SearchEngine {
  /** Where rows are inserted, with their tokens (columns ticket_id, entry_id, staff_only, tokens). */
  readonly input: string;
  /**
   * A query of `search_docs` rows (as `d`: `d.ticket_id`, a relevance `score` where higher is better) that
   * match `term`, or any of `terms` when given several. Internal notes are left out unless `notes`.
   */
  matching(q: Knex, terms: Term[], notes: boolean): Knex.QueryBuilder;
}

export function createSearchEngine(db: Database): SearchEngine {
  return db.dialect === 'mysql' ? new MysqlFulltext() : new SqliteFts();
}
