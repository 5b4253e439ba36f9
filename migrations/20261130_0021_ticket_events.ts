import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

/**
 * The ticket's history for agents: who changed what, from what to what. Apart from the audit log, which is the
 * security record and is read by object, never per page; this one is read with every ticket page.
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'ticket_events', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    // Who acted: an agent (staff_id), the requester, or the system (rules, the scheduler).
    t.string('actor', 16).notNullable();
    t.integer('staff_id').unsigned().references('staff.id').onDelete('SET NULL');
    // As the agent was called then: the history shows who acted, even after a rename.
    t.string('actor_name', 120);
    t.string('kind', 32).notNullable();
    t.text('data').notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['ticket_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ticket_events');
}
