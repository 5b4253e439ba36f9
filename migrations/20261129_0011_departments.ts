import type { Knex } from 'knex';
import { isMysql, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Department names unique regardless of case on both engines: MySQL's collation already folds case on
 * `name`, SQLite's `=` does not, so a lower-cased copy carries the unique index (DESIGN.md §9 "case").
 * `archived_at` retires a department that still has tickets: it is kept for them, offered for nothing new.
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('departments', 'name_key'))) {
    await knex.schema.alterTable('departments', (t) => {
      t.string('name_key', 120);
    });
  }
  if (!(await knex.schema.hasColumn('departments', 'archived_at'))) {
    await knex.schema.alterTable('departments', (t) => {
      timestamp(t, 'archived_at');
    });
  }
  // Lower-cased in JavaScript: SQLite's lower() folds only ASCII. Names that already collide keep their
  // department apart by id until an administrator renames one.
  const rows = (await knex('departments').orderBy('id').select('id', 'name', 'name_key')) as Array<{ id: number; name: string; name_key: string | null }>;
  const taken = new Set(rows.filter((r) => r.name_key !== null).map((r) => r.name_key));
  for (const r of rows) {
    if (r.name_key !== null) continue;
    let key = r.name.trim().toLowerCase();
    if (taken.has(key)) key = `${key} #${r.id}`.slice(0, 120);
    taken.add(key);
    await knex('departments').where({ id: r.id }).update({ name_key: key });
  }
  if (isMysql(knex)) {
    const [found] = (await knex.raw("SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'departments' AND index_name = 'departments_name_key_unique' LIMIT 1")) as [unknown[]];
    if (!found.length) await knex.schema.alterTable('departments', (t) => t.unique(['name_key'], { indexName: 'departments_name_key_unique' }));
  } else {
    await knex.raw('CREATE UNIQUE INDEX IF NOT EXISTS departments_name_key_unique ON departments (name_key)');
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
