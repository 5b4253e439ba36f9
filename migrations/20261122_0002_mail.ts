import type { Knex } from 'knex';
import { createTable, longBlob, timestamp } from '../src/db/schema.js';

export const config = { transaction: false };

async function addColumn(knex: Knex, table: string, column: string, build: (t: Knex.AlterTableBuilder) => void): Promise<void> {
  if (await knex.schema.hasColumn(table, column)) return;
  await knex.schema.alterTable(table, build);
}

export async function up(knex: Knex): Promise<void> {
  // Local parts are stored lower-cased; the domain is always MAIL_DOMAIN.
  await createTable(knex, 'mailboxes', (t) => {
    t.increments('id');
    t.string('local_part', 64).notNullable().unique();
    t.integer('department_id').unsigned().notNullable().references('departments.id');
    t.integer('topic_id').unsigned().references('help_topics.id').onDelete('SET NULL');
    t.tinyint('default_priority').notNullable().defaultTo(2);
    t.boolean('auto_response').notNullable().defaultTo(true);
    timestamp(t, 'created_at').notNullable();
  });

  // Every message the listener or the pipe accepted, raw, with what became of it. The unique key is the
  // dedupe guard: Message-IDs can be up to 998 bytes, so the index holds their SHA-256 (DESIGN.md §9).
  await createTable(knex, 'inbound_messages', (t) => {
    t.increments('id');
    t.integer('mailbox_id').unsigned().references('mailboxes.id').onDelete('SET NULL');
    t.string('message_id_hash', 64).notNullable();
    t.text('message_id');
    t.string('sender', 254);
    t.string('subject', 255);
    t.integer('size').unsigned().notNullable();
    longBlob(knex, t, 'raw').notNullable();
    t.string('status', 16).notNullable();
    t.string('reason', 64);
    t.text('error');
    t.integer('ticket_id').unsigned().references('tickets.id').onDelete('SET NULL');
    t.integer('entry_id').unsigned().references('thread_entries.id').onDelete('SET NULL');
    t.string('source', 16).notNullable();
    t.string('remote_address', 64);
    timestamp(t, 'received_at').notNullable();
    t.unique(['mailbox_id', 'message_id_hash'], { indexName: 'inbound_messages_dedupe' });
    t.index(['status', 'id']);
  });

  // Message-IDs of thread entries that came in by mail, for threading replies that quote them.
  await createTable(knex, 'thread_message_ids', (t) => {
    t.increments('id');
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('entry_id').unsigned().references('thread_entries.id').onDelete('CASCADE');
    t.string('message_id_hash', 64).notNullable();
    t.text('message_id').notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['message_id_hash']);
    t.index(['ticket_id', 'id']);
  });

  await createTable(knex, 'ticket_collaborators', (t) => {
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    timestamp(t, 'created_at').notNullable();
    t.primary(['ticket_id', 'user_id']);
    t.index(['user_id']);
  });

  // A pattern is a lower-cased address (ann@example.com) or a domain (example.com).
  await createTable(knex, 'banned_senders', (t) => {
    t.increments('id');
    t.string('pattern', 254).notNullable().unique();
    t.string('note', 255).notNullable().defaultTo('');
    t.integer('hits').unsigned().notNullable().defaultTo(0);
    timestamp(t, 'last_hit_at');
    timestamp(t, 'created_at').notNullable();
  });

  await createTable(knex, 'auto_reply_log', (t) => {
    t.increments('id');
    t.string('address_hash', 64).notNullable();
    timestamp(t, 'created_at').notNullable();
    t.index(['address_hash', 'created_at']);
  });

  // One row per cluster-wide job runner; `renewals` changes on every renewal because mysql2's affectedRows
  // counts changed rows only, and a renewal within the same millisecond would otherwise look lost.
  await createTable(knex, 'scheduler_leases', (t) => {
    t.string('name', 64).primary();
    t.string('holder', 64).notNullable();
    timestamp(t, 'expires_at').notNullable();
    t.bigInteger('renewals').notNullable().defaultTo(0);
  });

  await addColumn(knex, 'outbox', 'message_id', (t) => t.string('message_id', 255));
  await addColumn(knex, 'outbox', 'from_address', (t) => t.string('from_address', 254));
  await addColumn(knex, 'outbox', 'cc_addresses', (t) => t.text('cc_addresses'));
  // The mailbox a ticket arrived at, so that our answers come from the address the requester wrote to.
  await addColumn(knex, 'tickets', 'mailbox_id', (t) => t.integer('mailbox_id').unsigned());
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
