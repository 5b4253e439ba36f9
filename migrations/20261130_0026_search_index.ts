import type { Knex } from 'knex';
import { createTable, isMysql } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // The search index (src/search): one row per ticket's own fields and one per thread entry, holding our
  // tokens only; snippets come from the tables that hold the text.
  await createTable(knex, 'search_docs', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    // Null: the row of a ticket's fields (subject, number, requester, collaborators).
    t.integer('entry_id').unsigned().nullable().references('thread_entries.id').onDelete('CASCADE');
    t.boolean('staff_only').notNullable().defaultTo(false);
    if (isMysql(knex)) t.specificType('tokens', 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin').notNullable();
    t.index(['ticket_id']);
    t.index(['entry_id']);
  });
  if (isMysql(knex)) {
    const [rows] = (await knex.raw("SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'search_docs' AND index_name = 'search_docs_tokens_ft' LIMIT 1")) as [unknown[]];
    if (!rows.length) await knex.raw('ALTER TABLE search_docs ADD FULLTEXT INDEX search_docs_tokens_ft (tokens)');
    return;
  }
  // Contentless (the tokens live only in the index) with deletes by rowid; unicode61 must not fold further
  // (tokenize.ts already did) and must keep marks inside a token, as InnoDB does.
  await knex.raw(
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0 categories ''L* N* Co M*''')",
  );
  // Rows are written through this view, so that a row and its tokens are one INSERT on SQLite as on MySQL (a
  // statement fewer on every reply): the trigger inserts the row, then its tokens under the row's id.
  await knex.raw("CREATE VIEW IF NOT EXISTS search_input AS SELECT ticket_id, entry_id, staff_only, '' AS tokens FROM search_docs WHERE 0");
  await knex.raw(
    'CREATE TRIGGER IF NOT EXISTS search_input_insert INSTEAD OF INSERT ON search_input BEGIN ' +
      'INSERT INTO search_docs (ticket_id, entry_id, staff_only) VALUES (new.ticket_id, new.entry_id, new.staff_only); ' +
      'INSERT INTO search_fts (rowid, tokens) VALUES (last_insert_rowid(), new.tokens); END',
  );
  // Foreign-key cascades fire triggers too: a deleted ticket or entry takes its tokens with it.
  await knex.raw('CREATE TRIGGER IF NOT EXISTS search_docs_delete AFTER DELETE ON search_docs BEGIN DELETE FROM search_fts WHERE rowid = old.id; END');
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
