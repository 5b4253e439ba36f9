import type { Knex } from 'knex';
import { createTable } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Business schedules (issue 12, item 4): the hours SLA plans measure business time in. A schedule's weekly
 * hours and its holidays are JSON in TEXT columns rather than rows of child tables: they are always read and
 * written whole (the form saves all of them at once, the arithmetic needs all of them in memory), nothing
 * looks inside them in SQL, and one row keeps a save to one statement on both databases with no
 * delete-and-reinsert of children. They are checked where the repository reads them (DESIGN.md §9 "JSON").
 * - `hours`: seven arrays, Monday first, of [start, end] minutes after local midnight (end ≤ 1440).
 * - `holidays`: [{ name, from, to, yearly }], dates YYYY-MM-DD in the schedule's zone.
 * - `name_key`: the lower-cased name, unique (DESIGN.md §9 "case").
 * - `is_builtin`: the 24×7 schedule made here, which is neither edited nor deleted.
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'schedules', (t) => {
    t.increments('id').primary();
    t.string('name', 120).notNullable();
    t.string('name_key', 120).notNullable().unique();
    t.string('time_zone', 64).notNullable();
    t.text('hours').notNullable();
    t.text('holidays').notNullable();
    t.boolean('is_builtin').notNullable().defaultTo(false);
  });
  if (await knex('schedules').where({ is_builtin: true }).first()) return;
  const always = JSON.stringify(Array.from({ length: 7 }, () => [[0, 1440]]));
  await knex('schedules').insert({ name: '24×7', name_key: '24×7', time_zone: 'UTC', hours: always, holidays: '[]', is_builtin: true });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
