import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // Sliding-window counters shared by every node (portal ticket creation per client address, confirmation
  // mails per recipient address): one row per counted event, keyed by a hash of scope and key.
  await createTable(knex, 'rate_limit_events', (t) => {
    t.increments('id');
    t.string('key_hash', 64).notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['key_hash', 'created_at']);
    t.index(['created_at']);
  });
  // The auto-reply budget counted in its own log until now; its rows matter for an hour at most.
  await knex.schema.dropTableIfExists('auto_reply_log');
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
