import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Saved searches as queues (issue 11, item 4): a search's query string, kept as its URL has it, under a name,
 * for one agent (`staff_id`) or for every agent (`staff_id` NULL, made by an administrator).
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'saved_queues', (t) => {
    t.increments('id');
    t.string('name', 60).notNullable();
    // Names are unique per owner whatever their case: MySQL collations fold case, SQLite's `=` does not
    // (DESIGN.md §9 "case"), so the application writes the folded name here and the unique key is on it.
    t.string('name_key', 120).notNullable();
    t.integer('staff_id').unsigned().nullable().references('staff.id').onDelete('CASCADE');
    // NULLs never collide in a unique key on either engine: shared queues are owner 0 here, agents their id.
    t.integer('owner_key').unsigned().notNullable();
    t.text('query').notNullable();
    t.string('sort', 20).notNullable();
    timestamp(t, 'created_at').notNullable();
    t.unique(['owner_key', 'name_key'], { indexName: 'saved_queues_owner_name_uq' });
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
