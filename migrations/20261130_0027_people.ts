import type { Knex } from 'knex';
import { addIndex, createTable, timestamp } from '../src/db/schema.js';
import { laterWords, nameKey } from '../src/users/name-key.js';

export const config = { transaction: false };

/** How many rows the name-key backfill reads and writes at a time: short statements on a large users table. */
const BACKFILL_BATCH = 1000;

/**
 * People (issue 11, item 5): a directory searchable by name prefix, notes about users, organizations with the
 * e-mail domains that link new users to them, and the trace a merged user leaves.
 */
export async function up(knex: Knex): Promise<void> {
  // Prefix search needs a case-folded copy on both engines: MySQL collations fold case, SQLite's comparisons do
  // not (DESIGN.md §9 "case"). Written lower-cased (NFC) by the application, read as an index range.
  if (!(await knex.schema.hasColumn('users', 'name_key'))) {
    await knex.schema.alterTable('users', (t) => {
      t.string('name_key', 120).nullable();
    });
  }
  // A merged user keeps its row as a pointer to the survivor, so an old link to it still finds the person.
  if (!(await knex.schema.hasColumn('users', 'merged_into_id'))) {
    await knex.schema.alterTable('users', (t) => {
      t.integer('merged_into_id').unsigned().nullable().references('users.id').onDelete('SET NULL');
    });
  }
  if (!(await knex.schema.hasColumn('organizations', 'name_key'))) {
    await knex.schema.alterTable('organizations', (t) => {
      t.string('name_key', 120).nullable();
    });
  }
  await addIndex(knex, 'users', 'users_name_key_idx', ['name_key', 'id']);
  await addIndex(knex, 'users', 'users_org_name_idx', ['organization_id', 'name_key', 'id']);
  await addIndex(knex, 'organizations', 'organizations_name_key_idx', ['name_key', 'id']);

  // The words of a name after its first, so that "bowman" finds Ann Bowman (the first word is name_key's prefix).
  await createTable(knex, 'user_name_words', (t) => {
    t.string('word', 120).notNullable();
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.primary(['word', 'user_id']);
    t.index(['user_id']);
  });
  for (const table of ['users', 'organizations']) {
    for (let after = 0; ;) {
      const rows = (await knex(table).whereNull('name_key').where('id', '>', after).orderBy('id').limit(BACKFILL_BATCH).select('id', 'name')) as Array<{ id: number; name: string }>;
      if (!rows.length) break;
      for (const r of rows) {
        // Words before the key: a run cut short between the two starts this user again from scratch.
        if (table === 'users') {
          await knex('user_name_words').where('user_id', r.id).delete();
          for (const word of laterWords(r.name)) await knex('user_name_words').insert({ word, user_id: r.id });
        }
        await knex(table).where('id', r.id).update({ name_key: nameKey(r.name) });
      }
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  // A domain belongs to one organization: a new user's address picks at most one.
  await createTable(knex, 'organization_domains', (t) => {
    t.string('domain', 253).primary();
    t.integer('organization_id').unsigned().notNullable().references('organizations.id').onDelete('CASCADE');
    t.index(['organization_id']);
  });

  await createTable(knex, 'user_notes', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().nullable().references('staff.id').onDelete('SET NULL');
    t.text('body').notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['user_id', 'id']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
