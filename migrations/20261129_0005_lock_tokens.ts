import type { Knex } from 'knex';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // Each taking of a lock gets a fresh random token, handed to the page that took it; releases name it, so a
  // page left behind cannot release a lock taken since (by the next page of the same agent, typically).
  // `version` cannot serve: renewals bump it, and it starts again at 1 whenever the row is re-inserted.
  // Nullable: a lock taken before this migration has no token, so only posting or expiry ends it.
  if (await knex.schema.hasColumn('ticket_locks', 'token')) return;
  await knex.schema.alterTable('ticket_locks', (t) => {
    t.string('token', 32).nullable();
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
