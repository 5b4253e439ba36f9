import type { Database } from '../../src/db/database.js';

/** Empties the search index as an old database before reindex would have it: no ticket or entry findable. */
export async function emptySearchIndex(db: Database): Promise<void> {
  if (db.dialect === 'mysql') {
    for (const table of ['tickets', 'thread_entries']) await db.knex(table).update({ search_tokens: null });
    return;
  }
  for (const fts of ['ticket_fts', 'entry_fts']) await db.knex.raw(`INSERT INTO ${fts} (${fts}) VALUES ('delete-all')`);
}
