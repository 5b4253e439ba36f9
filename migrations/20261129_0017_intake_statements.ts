import type { Knex } from 'knex';
import { addIndex, createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Two statements fewer per incoming message (issue 8).
 *
 * An entry's Message-ID moves into the entry's own row: mail intake wrote a thread_message_ids row beside
 * every entry, and a unique key on the entry's hash now also refuses the second entry for one message, which
 * a read before every delivery used to look for. Not into inbound_messages, whose rows the retention purge
 * deletes while replies quoting them still need threading.
 *
 * A counter row per key and window, for limits taken in one statement (rate-limiter.ts take): the auto-reply
 * budget read the window's events and then inserted one. rate_limit_events stays for check-then-record.
 *
 * Each step can run again after an interruption (MySQL commits DDL as it goes).
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'rate_limit_counters', (t) => {
    t.string('key_hash', 64).primary();
    timestamp(t, 'window_start').notNullable();
    t.integer('n').unsigned().notNullable();
    t.index(['window_start']);
  });
  if (!(await knex.schema.hasColumn('thread_entries', 'message_id_hash'))) {
    await knex.schema.alterTable('thread_entries', (t) => {
      t.string('message_id_hash', 64).nullable();
      t.text('message_id').nullable();
    });
  }
  if (await knex.schema.hasTable('thread_message_ids')) {
    // Before the unique key: one row per Message-ID (the latest entry stored with it, the one threading
    // chose), and one per entry. SQLite has no index on entry_id, and the copy below looks rows up by it.
    await addIndex(knex, 'thread_message_ids', 'thread_message_ids_entry_idx', ['entry_id']);
    await knex.raw('DELETE FROM thread_message_ids WHERE entry_id IS NULL');
    await knex.raw(`DELETE FROM thread_message_ids WHERE id NOT IN (SELECT id FROM (SELECT MAX(id) AS id FROM thread_message_ids GROUP BY message_id_hash) AS firsts)`);
    await knex.raw(`DELETE FROM thread_message_ids WHERE id NOT IN (SELECT id FROM (SELECT MIN(id) AS id FROM thread_message_ids GROUP BY entry_id) AS firsts)`);
    await knex.raw(`UPDATE thread_entries SET
        message_id_hash = (SELECT m.message_id_hash FROM thread_message_ids AS m WHERE m.entry_id = thread_entries.id),
        message_id = (SELECT m.message_id FROM thread_message_ids AS m WHERE m.entry_id = thread_entries.id)
      WHERE id IN (SELECT entry_id FROM thread_message_ids)`);
  }
  await addIndex(knex, 'thread_entries', 'thread_entries_message_id_hash_unique', ['message_id_hash'], { unique: true });
  await knex.schema.dropTableIfExists('thread_message_ids');
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
