import type { Database } from '../db/database.js';
import type { Term } from './query.js';
import { MysqlFulltext } from './mysql-fulltext.js';
import { SqliteFts } from './sqlite-fts.js';

/** A row of ticket fields (`entry` false) or of an entry that matched, as the ticket it counts for. */
export interface ProbeRow {
  /** A merged ticket's fields count for the ticket it went into. */
  ticketId: number;
  /** Relevance, higher is better. */
  score: number;
  entry: boolean;
  /** An internal note's. */
  note: boolean;
}

/**
 * The full-text engine behind search (DESIGN.md §9 "search"): FTS5 on SQLite, InnoDB FULLTEXT on MariaDB and
 * MySQL, over the `search_tokens` every ticket and thread entry is written with (migration 0026). Both see only
 * our tokens (tokenize.ts), so they differ only in where the tokens are kept and in the syntax of a match. An
 * engine outside the database (OpenSearch, for sites past a few million tickets) would implement this, fed by
 * the same tokens.
 *
 * Every call reads a bounded number of rows: a word found in most tickets must cost no more than a rare one
 * (search-repository.ts says how a query is put together from these).
 */
export interface SearchEngine {
  /**
   * The rows of ticket fields and of entries that match `term`, reading at most `limit` of each kind; `complete`
   * when that was all of them. Which rows, when there are more, is the engine's cheapest choice: the newest on
   * SQLite, InnoDB's own order on MariaDB.
   */
  probe(db: Database, term: Term, limit: number): Promise<{ rows: ProbeRow[]; complete: boolean }>;
  /** Those of `ticketIds` whose fields or visible entries match any of `terms`: exact. */
  within(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Set<number>>;
  /** The visible entries of `ticketIds` that match any of `terms`. */
  entriesWithin(db: Database, terms: Term[], notes: boolean, ticketIds: number[]): Promise<Array<{ id: number; ticketId: number; text: string }>>;
}

export function createSearchEngine(db: Database): SearchEngine {
  return db.dialect === 'mysql' ? new MysqlFulltext() : new SqliteFts();
}
