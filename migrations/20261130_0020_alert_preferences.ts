import type { Knex } from 'knex';

/** Which e-mail alerts each agent wants; every one on, as before agents could choose. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.boolean('alert_new_ticket').notNullable().defaultTo(true);
    t.boolean('alert_new_message').notNullable().defaultTo(true);
    t.boolean('alert_assigned').notNullable().defaultTo(true);
    t.boolean('alert_transfer').notNullable().defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.dropColumn('alert_transfer');
    t.dropColumn('alert_assigned');
    t.dropColumn('alert_new_message');
    t.dropColumn('alert_new_ticket');
  });
}
