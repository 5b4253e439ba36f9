import type { Knex } from 'knex';

export const config = { transaction: false };

/**
 * How each inbound entry's sender was verified (DESIGN.md §11), and whether it came from someone not on the
 * ticket: shown to agents, who decide what the mail is worth. The sender's address is kept with the entry so
 * that agents can add that sender to the ticket or move the entry to a ticket of its own.
 */
export async function up(knex: Knex): Promise<void> {
  const columns: Array<[string, (t: Knex.AlterTableBuilder) => void]> = [
    ['sender_email', (t) => t.string('sender_email', 254)],
    ['verification', (t) => t.string('verification', 16)],
    ['from_non_participant', (t) => t.boolean('from_non_participant').notNullable().defaultTo(false)],
  ];
  for (const [name, add] of columns) {
    if (!(await knex.schema.hasColumn('thread_entries', name))) await knex.schema.alterTable('thread_entries', add);
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
