import type { Knex } from 'knex';
import { createTable, longText, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // One row per ticket: the primary key is what makes taking a lock atomic on both dialects (an insert under
  // the key, or a conditional update of the row), since FOR UPDATE is silently dropped on SQLite.
  // `version` grows on every claim so that an update always changes the row and its affected-row count
  // never depends on whether the driver reports matched or changed rows.
  await createTable(knex, 'ticket_locks', (t) => {
    t.integer('ticket_id').unsigned().primary().references('tickets.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().notNullable().references('staff.id').onDelete('CASCADE');
    timestamp(t, 'acquired_at').notNullable();
    timestamp(t, 'expires_at').notNullable();
    t.integer('version').unsigned().notNullable().defaultTo(1);
    t.index(['expires_at']);
    t.index(['staff_id']);
  });

  // A lock broken by an administrator leaves a notice for its former holder, shown on their next renewal;
  // kept apart from the lock row, which the next agent to take the lock overwrites.
  await createTable(knex, 'ticket_lock_notices', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().notNullable().references('staff.id').onDelete('CASCADE');
    t.integer('released_by').unsigned().references('staff.id').onDelete('SET NULL');
    t.string('released_by_name', 120).notNullable();
    timestamp(t, 'released_at').notNullable();
    t.index(['staff_id', 'ticket_id']);
    t.index(['released_at']);
  });

  await createTable(knex, 'drafts', (t) => {
    t.increments('id');
    t.integer('staff_id').unsigned().notNullable().references('staff.id').onDelete('CASCADE');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    longText(t, 'body').notNullable();
    timestamp(t, 'updated_at').notNullable();
    t.unique(['staff_id', 'ticket_id', 'kind']);
    t.index(['ticket_id']);
  });

  await createTable(knex, 'ticket_presence', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().notNullable().references('staff.id').onDelete('CASCADE');
    timestamp(t, 'seen_at').notNullable();
    t.primary(['ticket_id', 'staff_id']);
    t.index(['seen_at']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
