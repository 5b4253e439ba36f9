import type { Knex } from 'knex';
import { addIndex, isMysql } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Help topics as an administrator manages them (issue 12, item 1). `is_active` stays the archive flag: an
 * archived topic is false there, kept for the tickets that name it and offered for nothing new.
 * - `parent_id`: nesting ("Hardware / Printer"); a parent is never deleted while it has subtopics.
 * - `position`: the order among its siblings, as the administrator arranged them.
 * - `assign_staff_id`: the agent its new tickets are assigned to (a member of its department when saved, and
 *   again when a ticket is opened); an agent's deletion only ends the rule.
 * - `auto_response`: whether its new tickets send the requester the acknowledging notice.
 * - `name_key`: names are unique among siblings, regardless of case ("Hardware / Other" and "Software / Other"),
 *   in place of the unique index on the name alone: the parent's id and the lower-cased name (DESIGN.md §9 "case").
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('help_topics', 'parent_id'))) {
    await knex.schema.alterTable('help_topics', (t) => {
      t.integer('parent_id').unsigned().nullable().references('help_topics.id');
      t.index(['parent_id']);
    });
  }
  if (!(await knex.schema.hasColumn('help_topics', 'position'))) {
    await knex.schema.alterTable('help_topics', (t) => {
      t.integer('position').notNullable().defaultTo(0);
    });
  }
  if (!(await knex.schema.hasColumn('help_topics', 'assign_staff_id'))) {
    await knex.schema.alterTable('help_topics', (t) => {
      t.integer('assign_staff_id').unsigned().nullable().references('staff.id').onDelete('SET NULL');
    });
  }
  if (!(await knex.schema.hasColumn('help_topics', 'auto_response'))) {
    await knex.schema.alterTable('help_topics', (t) => {
      t.boolean('auto_response').notNullable().defaultTo(true);
    });
  }
  if (!(await knex.schema.hasColumn('help_topics', 'name_key'))) {
    await knex.schema.alterTable('help_topics', (t) => {
      t.string('name_key', 140);
    });
  }
  // Lower-cased in JavaScript: SQLite's lower() folds only ASCII. Every existing topic is at the top level.
  const rows = (await knex('help_topics').whereNull('name_key').select('id', 'name', 'parent_id')) as Array<{ id: number; name: string; parent_id: number | null }>;
  for (const r of rows) await knex('help_topics').where({ id: r.id }).update({ name_key: topicNameKey(r.parent_id, r.name) });
  await addIndex(knex, 'help_topics', 'help_topics_name_key_unique', ['name_key'], { unique: true });
  if (isMysql(knex)) {
    const [found] = (await knex.raw("SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'help_topics' AND index_name = 'help_topics_name_unique' LIMIT 1")) as [unknown[]];
    if (found.length) await knex.raw('ALTER TABLE help_topics DROP INDEX help_topics_name_unique');
  } else {
    await knex.raw('DROP INDEX IF EXISTS help_topics_name_unique');
  }
}

/** As topic-repository.ts writes it; copied, since a migration must not change when the code does. */
const topicNameKey = (parentId: number | null, name: string) => `${parentId ?? 0}/${name.trim().toLowerCase()}`.slice(0, 140);

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
