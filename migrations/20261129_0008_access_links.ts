import type { Knex } from 'knex';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // Access links are signed with the ticket's epoch: an agent revoking them bumps it, and every link mailed
  // before stops working.
  if (!(await knex.schema.hasColumn('tickets', 'access_epoch'))) {
    await knex.schema.alterTable('tickets', (t) => {
      t.integer('access_epoch').notNullable().defaultTo(0);
    });
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
