import type { Knex } from 'knex';

/**
 * The language each reader chose: an agent's panel (null: the site default), and a requester's notices (from
 * the portal or the mail's Content-Language; null: the site default). The site default itself is a setting.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.string('language', 16).nullable();
  });
  await knex.schema.alterTable('users', (t) => {
    t.string('language', 16).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => t.dropColumn('language'));
  await knex.schema.alterTable('staff', (t) => t.dropColumn('language'));
}
