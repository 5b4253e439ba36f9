import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // A merged ticket keeps its row and number as an alias of the survivor: old links redirect, and mail that
  // names the old number (a [#OLD] subject, a signed Message-ID of ours) lands on the survivor.
  if (!(await knex.schema.hasColumn('tickets', 'merged_into_id'))) {
    await knex.schema.alterTable('tickets', (t) => {
      // An alias goes with its survivor: its entries were moved there, so it is an empty shell without it.
      t.integer('merged_into_id').unsigned().nullable().references('tickets.id').onDelete('CASCADE');
      t.index(['merged_into_id']);
    });
  }
  // Who a response was mailed to: {"to": [...], "cc": [...]}, as the thread shows it. Null for other entries.
  if (!(await knex.schema.hasColumn('thread_entries', 'recipients'))) {
    await knex.schema.alterTable('thread_entries', (t) => {
      t.text('recipients').nullable();
    });
  }
  // Related tickets, one row per direction, so that each ticket lists its links from its own index range.
  await createTable(knex, 'ticket_links', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('linked_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().nullable().references('staff.id').onDelete('SET NULL');
    timestamp(t, 'created_at').notNullable();
    t.primary(['ticket_id', 'linked_id']);
    t.index(['linked_id']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
