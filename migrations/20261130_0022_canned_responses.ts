import type { Knex } from 'knex';
import { createTable, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * Canned responses: saved reply texts with variables. The scope is in which owner column is set: neither is
 * global, `department_id` a department's, `staff_id` one agent's own; a deleted department or agent takes its
 * responses along. Who wrote and last changed one is kept, not enforced (the agent may be deleted later).
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'canned_responses', (t) => {
    t.increments('id');
    t.string('title', 120).notNullable();
    t.text('body').notNullable();
    t.integer('department_id').unsigned().references('departments.id').onDelete('CASCADE');
    t.integer('staff_id').unsigned().references('staff.id').onDelete('CASCADE');
    t.integer('created_by').unsigned().references('staff.id').onDelete('SET NULL');
    t.integer('updated_by').unsigned().references('staff.id').onDelete('SET NULL');
    timestamp(t, 'created_at').notNullable();
    timestamp(t, 'updated_at').notNullable();
    t.index(['department_id']);
    t.index(['staff_id']);
  });

  // A response's files: the bytes in attachment_blobs like every attachment's, so a file sent with many
  // replies is stored once; a reply that uses the response links the same blob to its entry.
  await createTable(knex, 'canned_attachments', (t) => {
    t.increments('id');
    t.integer('canned_id').unsigned().notNullable().references('canned_responses.id').onDelete('CASCADE');
    t.string('filename', 255).notNullable();
    t.string('content_type', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable().references('attachment_blobs.sha256');
    t.index(['canned_id']);
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
