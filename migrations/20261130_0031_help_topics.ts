import type { Knex } from 'knex';

export const config = { transaction: false };

/**
 * Help topics as an administrator manages them (issue 12, item 1). `is_active` stays the archive flag: an
 * archived topic is false there, kept for the tickets that name it and offered for nothing new.
 * - `parent_id`: nesting ("Hardware / Printer"); a parent is never deleted while it has subtopics.
 * - `position`: the order among its siblings, as the administrator arranged them.
 * - `assign_staff_id`: the agent its new tickets are assigned to (a member of its department when saved, and
 *   again when a ticket is opened); an agent's deletion only ends the rule.
 * - `auto_response`: whether its new tickets send the requester the acknowledging notice.
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
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
