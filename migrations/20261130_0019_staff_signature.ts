import type { Knex } from 'knex';

/** An agent's own signature, which they may append to a response instead of their department's (or none). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.text('signature').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => t.dropColumn('signature'));
}
