import type { Knex } from 'knex';
import { isMysql } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * The search index (src/search). Each ticket and each thread entry carries its own tokens (our tokeniser's, not
 * the engine's), written by the same INSERT or UPDATE as the row: indexing costs no statement of its own, so
 * mail intake keeps its statement budget (issue 8), and an entry moved to another ticket (merge, split) is
 * found there with no index work. A ticket's tokens are its number, subject, requester and collaborators; an
 * entry's its text and file names. Snippets come from the text itself.
 */
export async function up(knex: Knex): Promise<void> {
  if (isMysql(knex)) {
    // Binary collation: the tokens are already folded, and the column's collation would fold further (ß to ss,
    // on one side only). InnoDB applies a FULLTEXT change at commit, so the next search on any node sees it.
    for (const table of ['tickets', 'thread_entries']) {
      if (!(await knex.schema.hasColumn(table, 'search_tokens'))) {
        await knex.raw(`ALTER TABLE ${table} ADD COLUMN search_tokens LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL`);
      }
      const [rows] = (await knex.raw('SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1', [table, `${table}_search_ft`])) as [unknown[]];
      if (!rows.length) await knex.raw(`ALTER TABLE ${table} ADD FULLTEXT INDEX ${table}_search_ft (search_tokens)`);
    }
    return;
  }
  // SQLite: a contentless FTS5 table per indexed table, its rowid the row's id. The column is only the way in:
  // a trigger moves the tokens into the FTS table and empties the column, so they are not stored twice.
  // unicode61 must not fold further (tokenize.ts did) and must keep marks inside a token, as InnoDB does.
  for (const [table, fts] of [['tickets', 'ticket_fts'], ['thread_entries', 'entry_fts']] as const) {
    if (!(await knex.schema.hasColumn(table, 'search_tokens'))) await knex.schema.alterTable(table, (t) => t.text('search_tokens').nullable());
    await knex.raw(`CREATE VIRTUAL TABLE IF NOT EXISTS ${fts} USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0 categories ''L* N* Co M*''')`);
    const move = `DELETE FROM ${fts} WHERE rowid = new.id; INSERT INTO ${fts} (rowid, tokens) VALUES (new.id, new.search_tokens); UPDATE ${table} SET search_tokens = NULL WHERE id = new.id;`;
    // The UPDATE inside does not fire these again: SQLite's recursive triggers are off.
    await knex.raw(`CREATE TRIGGER IF NOT EXISTS ${table}_search_insert AFTER INSERT ON ${table} WHEN new.search_tokens IS NOT NULL BEGIN ${move} END`);
    await knex.raw(`CREATE TRIGGER IF NOT EXISTS ${table}_search_update AFTER UPDATE OF search_tokens ON ${table} WHEN new.search_tokens IS NOT NULL BEGIN ${move} END`);
    // Foreign-key cascades fire triggers too: a deleted ticket takes its entries' tokens with it.
    await knex.raw(`CREATE TRIGGER IF NOT EXISTS ${table}_search_delete AFTER DELETE ON ${table} BEGIN DELETE FROM ${fts} WHERE rowid = old.id; END`);
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
